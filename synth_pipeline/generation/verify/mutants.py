"""Small semantic mutations of one function: a test suite that lets them pass proves nothing."""

from __future__ import annotations

import ast
import copy

FLIPPED = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SWAPPED = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult}
KINDS = ("return_none", "flip_compare", "off_by_one", "swap_arith")


def mutants(source: str, function: str) -> dict[str, str]:
    """kind -> source with `function` mutated that way; kinds that find nothing to change are absent."""
    tree = ast.parse(source)
    out = {}
    for kind in KINDS:
        mutated = copy.deepcopy(tree)
        target = next((n for n in ast.walk(mutated)
                       if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function), None)
        if target is not None and _mutate(target, kind):
            out[kind] = ast.unparse(ast.fix_missing_locations(mutated))
    return out


def _mutate(func: ast.AST, kind: str) -> bool:
    nodes = [n for n in ast.walk(func)]
    if kind == "return_none":
        returns = [n for n in nodes if isinstance(n, ast.Return) and not _is_none(n.value)]
        for node in returns:
            node.value = ast.Constant(None)
        return bool(returns)
    if kind == "flip_compare":
        for node in nodes:
            if isinstance(node, ast.Compare) and type(node.ops[0]) in FLIPPED:
                node.ops[0] = FLIPPED[type(node.ops[0])]()
                return True
    if kind == "off_by_one":
        for node in nodes:
            if isinstance(node, ast.Constant) and type(node.value) is int:
                node.value += 1
                return True
    if kind == "swap_arith":
        for node in nodes:
            if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in SWAPPED:
                node.op = SWAPPED[type(node.op)]()
                return True
    return False


def _is_none(node: ast.AST | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)
