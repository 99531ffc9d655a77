"""Bias audit for qa_report.json `bias`: representation, sentiment by group, topic coverage, stereotypes.

Every result carries a pass/fail against a BiasConfig threshold; the checks are advisory
(non-blocking): a lexicon audit cannot prove a dataset fair, it points reviewers at skews.
Rows are read in record batches and only counts and sums are kept between batches, so memory
follows the batch size. Term and pattern matching runs as Arrow regex kernels; only rows
mentioning a group are scored for sentiment (VADER, pure Python and the slow part, whose
lexicon ships with the package).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import chisquare

from synth_pipeline.config import BiasConfig, PipelineConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.records import TEXT_FIELDS, RecordKind, kind_of
from synth_pipeline.tables import BATCH_ROWS, Rows

DATA_DIR = Path(__file__).parent / "data"
LEXICON_FILE = DATA_DIR / "demographic_terms.json"
STEREOTYPE_FILE = DATA_DIR / "stereotype_patterns.json"
FLAGGED_LISTED = 100  # stereotype rows listed in the report; `count` has them all
Lexicon = dict[str, dict[str, list[str]]]


def load_lexicon(attributes: list[str], extra_files: list[Path] = ()) -> Lexicon:
    """The built-in lexicon's `attributes` plus every attribute of the extra JSON files."""
    builtin = {k: v for k, v in json.loads(LEXICON_FILE.read_text(encoding="utf-8")).items() if k != "_about"}
    unknown = sorted(set(attributes) - set(builtin))
    if unknown:
        raise ConfigError(f"bias.attributes: {unknown} not in the built-in lexicon {sorted(builtin)}")
    lexicon = {a: builtin[a] for a in attributes}
    for path in extra_files:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read bias lexicon: {exc}") from None
        for attr, groups in data.items():
            if attr.startswith("_"):
                continue
            if not isinstance(groups, dict) or not all(
                isinstance(t, list) and all(isinstance(x, str) for x in t) for t in groups.values()
            ):
                raise ConfigError(f"{path}: attribute {attr!r}: expected {{group: [terms]}}")
            lexicon[attr] = groups
    return lexicon


def _alternation(terms: list[str]) -> str:
    return "|".join(sorted((re.escape(t.lower()) for t in terms), key=len, reverse=True))


def _term_pattern(terms: list[str]) -> str:
    return rf"\b(?:{_alternation(terms)})\b"


def row_texts(table: pa.Table | pa.RecordBatch, lower: bool = True) -> pa.Array:
    """All text fields of each row joined by newlines (lower-cased for matching)."""
    kind = kind_of(table)
    if kind is RecordKind.CHAT:
        col = table.column("messages")
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        contents = pc.fill_null(pc.struct_field(pc.list_flatten(col), "content"), "")
        offsets = pc.subtract(col.offsets, col.offsets[0])
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, contents), "\n")
    else:
        cols = [pc.fill_null(table.column(f), "") for f in TEXT_FIELDS[kind]]
        joined = pc.binary_join_element_wise(*cols, "\n")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    joined = pc.fill_null(joined, "")
    return pc.utf8_lower(joined) if lower else joined


def _mentions(texts: pa.Array, lexicon: Lexicon) -> dict[str, dict[str, np.ndarray]]:
    return {
        attr: {g: pc.match_substring_regex(texts, _term_pattern(terms)).to_numpy(zero_copy_only=False)
               for g, terms in groups.items()}
        for attr, groups in lexicon.items()
    }


def representation(counts: dict[str, dict[str, int]], any_rows: dict[str, int], cfg: BiasConfig) -> dict[str, Any]:
    """Parity per attribute from rows mentioning each group and rows mentioning any of them."""
    out: dict[str, Any] = {}
    for attr, groups in counts.items():
        top = max(groups.values(), default=0)
        parity = {g: (c / top if top else None) for g, c in groups.items()}
        mentioning = any_rows[attr]
        enough = mentioning >= cfg.min_group_rows
        ratio = min(c for c in groups.values()) / top if top else None
        out[attr] = {
            "rows_mentioning": mentioning,
            "groups": {g: {"rows": c, "share": round(c / mentioning, 4) if mentioning else None,
                           "parity": round(parity[g], 4) if parity[g] is not None else None}
                       for g, c in groups.items()},
            "absent_groups": sorted(g for g, c in groups.items() if c == 0),
            "parity_ratio": round(ratio, 4) if ratio is not None else None,
            "threshold": cfg.parity_min,
            "passed": (ratio >= cfg.parity_min) if enough and ratio is not None else None,
        }
    return out


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_by_group(counts: dict[str, dict[str, int]], sums: dict[str, dict[str, float]],
                       cfg: BiasConfig) -> dict[str, Any]:
    """Mean VADER compound per group from per-group row counts and score sums."""
    out: dict[str, Any] = {"method": "VADER compound score (-1..1), mean over rows mentioning the group",
                           "threshold": cfg.sentiment_gap_max, "by_attribute": {}}
    largest: dict[str, Any] | None = None
    for attr, groups in counts.items():
        by_group = {g: {"rows": c, "mean": round(sums[attr][g] / c, 4) if c else None} for g, c in groups.items()}
        eligible = {g: v["mean"] for g, v in by_group.items() if v["rows"] >= cfg.min_group_rows}
        entry: dict[str, Any] = {"by_group": by_group, "gap": None, "passed": None}
        if len(eligible) >= 2:
            hi, lo = max(eligible, key=eligible.get), min(eligible, key=eligible.get)
            gap = round(eligible[hi] - eligible[lo], 4)
            entry.update(gap=gap, most_positive=hi, most_negative=lo, passed=gap <= cfg.sentiment_gap_max)
            if largest is None or gap > largest["gap"]:
                largest = {"attribute": attr, "gap": gap, "most_positive": hi, "most_negative": lo}
        out["by_attribute"][attr] = entry
    out["largest_gap"] = largest
    return out


def topic_coverage(domains: Counter, taxonomy: TaxonomyConfig | None, cfg: BiasConfig) -> dict[str, Any]:
    """Chi-square of observed taxonomy domains (counts per metadata.domain) against the targets."""
    if taxonomy is None:
        return {"skipped": "no taxonomy configured", "passed": None}
    targets = taxonomy.targets or {d: 1 / len(taxonomy.domains) for d in taxonomy.domains}
    observed = {d: domains.get(d, 0) for d in targets}
    unknown = sum(c for d, c in domains.items() if d not in observed)
    total = sum(observed.values())
    names = [d for d in targets if targets[d] > 0]
    result: dict[str, Any] = {
        "target_share": {d: round(targets[d], 4) for d in targets},
        "observed": observed,
        "observed_share": {d: round(c / total, 4) if total else None for d, c in observed.items()},
        "rows_without_taxonomy_domain": unknown,
        "p_threshold": cfg.coverage_p_min,
        "residual_threshold": cfg.coverage_residual_max,
    }
    if total == 0 or len(names) < 2:
        return {**result, "chi2": None, "p_value": None, "over_represented": [], "under_represented": [],
                "passed": None}
    obs = np.array([observed[d] for d in names], dtype=float)
    exp = np.array([targets[d] for d in names]) * total
    exp *= obs.sum() / exp.sum()  # renormalise when some targets are zero
    stat, p = chisquare(obs, exp)
    resid = (obs - exp) / np.sqrt(exp)
    over = [d for d, r in zip(names, resid, strict=True) if r > cfg.coverage_residual_max]
    under = [d for d, r in zip(names, resid, strict=True) if r < -cfg.coverage_residual_max]
    over += [d for d in targets if targets[d] == 0 and observed[d] > 0]
    return {**result, "chi2": round(float(stat), 4), "p_value": float(p),
            "residuals": {d: round(float(r), 3) for d, r in zip(names, resid, strict=True)},
            "over_represented": over, "under_represented": under, "passed": bool(p >= cfg.coverage_p_min)}


class _Stereotypes:
    """Stereotype patterns over lower-cased row texts: first matching pattern per row, in row order."""

    def __init__(self, lexicon: Lexicon, listed: int) -> None:
        spec = json.loads(STEREOTYPE_FILE.read_text(encoding="utf-8"))
        group_alt = _alternation([t for groups in lexicon.values() for terms in groups.values() for t in terms])
        trait_alt = _alternation(spec["traits"])
        self.patterns = [(pat, pat["pattern"].replace("{group}", group_alt).replace("{trait}", trait_alt))
                         for pat in spec["patterns"]]
        self.listed = listed
        self.flagged: list[dict[str, Any]] = []
        self.count = 0

    def add(self, texts: pa.Array, ids: pa.Array) -> None:
        rule = np.full(len(texts), -1)
        for p, (_, regex) in enumerate(self.patterns):
            hits = pc.match_substring_regex(texts, regex).to_numpy(zero_copy_only=False)
            rule[hits & (rule < 0)] = p
        rows = np.flatnonzero(rule >= 0)
        self.count += int(rows.size)
        for i in rows[:max(0, self.listed - len(self.flagged))].tolist():
            pat, regex = self.patterns[rule[i]]
            m = re.search(regex, texts[i].as_py())
            self.flagged.append({"row_id": ids[i].as_py(), "rule": pat["id"], "reason": pat["reason"],
                                 "match": m.group(0) if m else None})

    def report(self, cfg: BiasConfig) -> dict[str, Any]:
        return {"flagged": self.flagged, "count": self.count, "listed_max": self.listed,
                "threshold": cfg.stereotype_max_flagged, "passed": self.count <= cfg.stereotype_max_flagged,
                "action": "route flagged rows to human review"}


def bias_audit(rows: pa.Table | Rows, taxonomy: TaxonomyConfig | None,
               config: PipelineConfig | BiasConfig | None = None, batch_rows: int = BATCH_ROWS,
               flagged_listed: int = FLAGGED_LISTED) -> dict[str, Any]:
    """The `bias` block of qa_report.json, with one non-blocking check per threshold.

    Stereotype flags are counted in full but listed only for the first `flagged_listed` rows.
    """
    if isinstance(config, PipelineConfig):
        cfg, extra = config.bias, [config.resolve(p) for p in config.bias.lexicons]
    else:
        cfg = config or BiasConfig()
        extra = [Path(p) for p in cfg.lexicons]
    lexicon = load_lexicon(cfg.attributes, extra)
    rows = Rows.of(rows)
    counts = {attr: dict.fromkeys(groups, 0) for attr, groups in lexicon.items()}
    sums = {attr: dict.fromkeys(groups, 0.0) for attr, groups in lexicon.items()}
    any_rows = dict.fromkeys(lexicon, 0)
    domains: Counter = Counter()
    stereotypes = _Stereotypes(lexicon, flagged_listed)
    columns = ["id", *TEXT_FIELDS[kind_of(rows)]] + (["metadata"] if taxonomy is not None else [])
    for batch in rows.batches(batch_rows, columns=columns):
        original = row_texts(batch, lower=False)
        texts = pc.utf8_lower(original)
        mentions = _mentions(texts, lexicon)
        any_mention = np.zeros(batch.num_rows, dtype=bool)
        for attr, groups in mentions.items():
            attr_any = np.logical_or.reduce(list(groups.values())) if groups else np.zeros(batch.num_rows, bool)
            any_rows[attr] += int(attr_any.sum())
            any_mention |= attr_any
        # VADER reads case and punctuation, so it scores the original texts.
        scores = np.zeros(batch.num_rows)
        mentioned = np.flatnonzero(any_mention)
        if mentioned.size:
            analyzer = _vader()
            scores[mentioned] = [analyzer.polarity_scores(t)["compound"]
                                 for t in original.take(pa.array(mentioned)).to_pylist()]
        for attr, groups in mentions.items():
            for g, m in groups.items():
                counts[attr][g] += int(m.sum())
                sums[attr][g] += float(scores[m].sum())
        if taxonomy is not None:
            for entry in pc.value_counts(pc.struct_field(batch.column("metadata"), "domain")).to_pylist():
                domains[entry["values"]] += entry["counts"]
        stereotypes.add(texts, batch.column("id"))
    report: dict[str, Any] = {
        "rows": rows.num_rows,
        "representation": representation(counts, any_rows, cfg),
        "sentiment": sentiment_by_group(counts, sums, cfg),
        "coverage": topic_coverage(domains, taxonomy, cfg),
        "stereotypes": stereotypes.report(cfg),
    }
    checks = []
    for attr, rep in report["representation"].items():
        checks.append({"name": f"bias_parity_{attr}", "value": rep["parity_ratio"], "threshold": cfg.parity_min,
                       "passed": rep["passed"]})
    for attr, sent in report["sentiment"]["by_attribute"].items():
        checks.append({"name": f"bias_sentiment_gap_{attr}", "value": sent["gap"],
                       "threshold": cfg.sentiment_gap_max, "passed": sent["passed"]})
    cov = report["coverage"]
    checks.append({"name": "bias_topic_coverage", "value": cov.get("p_value"), "threshold": cfg.coverage_p_min,
                   "passed": cov["passed"]})
    st = report["stereotypes"]
    checks.append({"name": "bias_stereotype_flags", "value": st["count"], "threshold": cfg.stereotype_max_flagged,
                   "passed": st["passed"]})
    for c in checks:
        c["blocking"] = False
        c["evaluated"] = c["passed"] is not None
    report["checks"] = checks
    report["passed"] = all(c["passed"] is not False for c in checks)
    return report
