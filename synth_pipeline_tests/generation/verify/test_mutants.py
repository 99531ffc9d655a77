import ast

from synth_pipeline.generation.verify.mutants import mutants

SOURCE = "def f(xs):\n    total = 0\n    for x in xs:\n        if x > 0:\n            total += x\n    return total\n"


def _run(source, xs):
    scope = {}
    exec(compile(source, "m", "exec"), scope)
    return scope["f"](xs)


def test_each_kind_changes_behaviour():
    out = mutants(SOURCE, "f")
    assert set(out) == {"return_none", "flip_compare", "off_by_one", "swap_arith"}
    assert _run(SOURCE, [1, -2, 3]) == 4
    assert _run(out["return_none"], [1, -2, 3]) is None
    assert _run(out["flip_compare"], [1, -2, 3]) == -2
    assert _run(out["off_by_one"], [1, -2, 3]) == 5
    assert _run(out["swap_arith"], [1, -2, 3]) == -4


def test_only_the_named_function_changes():
    source = "def helper():\n    return 1\n\n" + SOURCE
    mutated = ast.parse(mutants(source, "f")["return_none"])
    helper = mutated.body[0]
    assert isinstance(helper.body[0].value, ast.Constant) and helper.body[0].value.value == 1


def test_nothing_to_mutate_gives_no_mutant():
    assert mutants("def g():\n    pass\n", "g") == {}
    assert mutants(SOURCE, "missing") == {}
