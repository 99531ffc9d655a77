"""`evaluation_report.json`, `evaluation_report.md` and the loss-curve PNG, written beside the release."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.fs as pafs

from synth_pipeline.export.previous import VALIDATION_REPORT as REPORT_JSON
from synth_pipeline.export.previous import VALIDATION_SUFFIX
from synth_pipeline.export.previous import VALIDATION_SUMMARY as REPORT_MD

LOSS_CURVE = "loss_curve.png"


def report_dir(release_base: str, version: str) -> str:
    """`<release folder>/<version>.validation`: beside the immutable release, never inside it (the next
    version's changelog links it)."""
    return f"{release_base}/{version}{VALIDATION_SUFFIX}"


def loss_curve_png(curve: list[dict[str, float]], heldout: dict[str, Any], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if curve:
        ax.plot([c["tokens"] for c in curve], [c["loss"] for c in curve], label="train loss (per batch)", lw=1)
    colours = {"val": "tab:orange", "test": "tab:green"}
    last = curve[-1]["tokens"] if curve else 1
    for split, h in heldout.items():
        if h["before"] and h["after"]:
            ax.plot([0, last], [h["before"]["loss"], h["after"]["loss"]], "o--", color=colours.get(split),
                    label=f"{split} loss before/after")
    ax.set_xlabel("training tokens")
    ax.set_ylabel("loss (nats / answer token)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Evaluation of release `{report['version']}`", "",
             f"Model `{report['model']['name']}` ({report['training']['method']}), "
             f"{report['training']['steps']} steps over {report['training']['examples']} of "
             f"{report['training']['train_rows']} train rows ({report['training']['tokens']} tokens, budget "
             f"{report['training']['token_budget']}).", "",
             f"**Verdict: {report['verdict']}**", "",
             "| check | value | threshold | passed |", "|---|---|---|---|"]
    for c in report["checks"]:
        lines.append(f"| {c['name']} | {_fmt(c['value'])} | {_fmt(c['threshold'])} | "
                     f"{'yes' if c['passed'] else 'not evaluated' if c['passed'] is None else 'no'} |")
    lines += ["", "## Held-out loss (nats per answer token)", "",
              "| split | rows | before | after | after, prompts swapped |", "|---|---|---|---|---|"]
    for split, h in report["heldout"].items():
        lines.append(f"| {split} | {h['rows']} | {_fmt((h['before'] or {}).get('loss'))} | "
                     f"{_fmt((h['after'] or {}).get('loss'))} | {_fmt((h['after_swapped'] or {}).get('loss'))} |")
    pooled = report["heldout_pooled"]
    if pooled["rows"] < pooled["min_rows"]:
        lines += ["", f"Not enough held-out rows: {pooled['rows']} < {pooled['min_rows']} "
                  "(`validate.min_heldout_rows`), so the loss-drop and prompt-gain checks are not evaluated."]
    if report.get("train_before"):
        t = report["train_before"]
        lines += [f"Instead: {t['rows']} train rows score {_fmt(t['loss'])} nats per answer token under the base "
                  "model before training (not a held-out figure: they are trained on next)."]
    b = report["benchmark"]
    lines += ["", "## Benchmark (no-regression check)", ""]
    if b["items"]:
        lines += [f"{b['suite']} ({b['split']}, {b['items']} items, licence {b['licence']}): base "
                  f"{b['base']['accuracy']} ± {b['base']['stderr']}, tuned {b['tuned']['accuracy']} ± "
                  f"{b['tuned']['stderr']} (change {b['change']:+.2f} points; the baseline was "
                  f"{'read from the cache' if b['baseline_cached'] else 'computed now and cached'})."]
        if b.get("paired"):
            p = b["paired"]
            lines += ["", f"Paired on the same items: {p['right_to_wrong']} turned wrong, {p['wrong_to_right']} "
                      f"turned right; the change's standard error is ± {p['stderr']} points."]
    else:
        lines += ["Not run (`validate.benchmark_items: 0`)."]
    lines += ["", f"Evaluation suite: {b['suite']}. Decontamination suites of the release: "
              f"{', '.join(report['decontamination']['suites']) or 'none'}; the evaluation items are "
              f"{'covered' if report['decontamination']['eval_suite_covered'] else 'NOT covered'} by them.",
              "", f"![loss curve]({LOSS_CURVE})", ""]
    return "\n".join(lines)


def write_report(fs: pafs.FileSystem, directory: str, report: dict[str, Any], png: bytes) -> dict[str, str]:
    """The three files under `directory` (replaced if present); their paths by name."""
    fs.create_dir(directory, recursive=True)
    paths = {}
    for name, data in ((REPORT_JSON, json.dumps(report, indent=2).encode()),
                       (REPORT_MD, markdown(report).encode()), (LOSS_CURVE, png)):
        paths[name] = f"{directory}/{name}"
        with fs.open_output_stream(paths[name]) as out:
            out.write(data)
    return paths
