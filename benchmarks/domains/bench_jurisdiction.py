"""The legal jurisdiction and disclaimer checks on contracts labelled by lawyers (CUAD v1, CC BY 4.0).

    python benchmarks/domains/bench_jurisdiction.py [--out benchmarks/domains/jurisdiction.json]

Each CUAD contract's governing-law clause comes with the jurisdiction its annotators read from it
(`Governing Law-Answer`, matched to a tag by name: "England, United Kingdom" -> uk-ew). The check
(`verify/jurisdiction.jurisdiction_failure`) runs with the
default jurisdictions (New York, England and Wales, Germany) plus California, Delaware, Texas and
the PRC, the labels CUAD has most of. A clause should pass as its own jurisdiction (accept rate)
and fail as any other configured one (false accept rate); a clause of an unconfigured jurisdiction
(Florida, Ontario...) should fail as every configured one. The disclaimer check is run on the same
clauses: alone (must be reported missing), with the disclaimer re-wrapped and re-cased (present),
with one word dropped or another jurisdiction's name (missing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from synth_pipeline.config import Jurisdiction, LegalOptions
from synth_pipeline.generation.verify.jurisdiction import disclaimer_for, has_disclaimer, jurisdiction_failure

DATA = Path(__file__).resolve().parent / "data" / "cuad_governing_law.jsonl"
EXTRA = [
    Jurisdiction(tag="us-ca", name="the State of California", markers=["California"]),
    Jurisdiction(tag="us-de", name="the State of Delaware", markers=["Delaware"]),
    Jurisdiction(tag="us-tx", name="the State of Texas", markers=["Texas"]),
    Jurisdiction(tag="cn", name="the People's Republic of China", markers=["People's Republic of China", "PRC"]),
]
# A CUAD label names one or more jurisdictions ("England, United Kingdom; Wales, United Kingdom").
LABEL_KEYS = {"New York": "us-ny", "England": "uk-ew", "Germany": "de", "California": "us-ca", "Delaware": "us-de",
              "Texas": "us-tx", "China": "cn"}


def label_tags(label: str) -> set[str]:
    return {tag for key, tag in LABEL_KEYS.items() if key in label}


def load(path: Path) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not (row.get("clause") or "").strip():
            raise ValueError(f"{path}:{number}: field 'clause' missing or empty")
        rows.append(row)
    return rows


def jurisdiction_verdicts(rows: list[dict[str, str]], configured: list[Jurisdiction]) -> dict[str, Any]:
    by_tag = {j.tag: j for j in configured}
    own: dict[str, list[int]] = {}
    false_accepts, checks, misses, wrong, several = 0, 0, [], [], 0
    for row in rows:
        tags = label_tags(row["governing_law"])
        if len(tags) > 1:  # a clause of two configured jurisdictions: no single right answer
            several += 1
            continue
        for target in configured:
            passed = jurisdiction_failure(row["clause"], target.tag, target, configured) is None
            if target.tag in tags:
                own.setdefault(target.tag, [0, 0])
                own[target.tag][0] += passed
                own[target.tag][1] += 1
                if not passed:
                    misses.append(f"{target.tag}: {row['clause'][:160]}")
            else:
                checks += 1
                false_accepts += passed
                if passed:
                    wrong.append(f"{row['governing_law'] or '(none)'} as {target.tag}: {row['clause'][:160]}")
    accepted = sum(a for a, _ in own.values())
    total = sum(n for _, n in own.values())
    return {"jurisdictions": sorted(by_tag), "accepted_as_own": {t: f"{a}/{n}" for t, (a, n) in sorted(own.items())},
            "accept_rate": round(accepted / total, 4), "false_accepts": f"{false_accepts}/{checks}",
            "false_accept_rate": round(false_accepts / checks, 4), "left_out_several_configured": several,
            "rejected_own_examples": misses[:8],
            "false_accept_examples": wrong[:8]}


def disclaimer_verdicts(rows: list[dict[str, str]], opts: LegalOptions) -> dict[str, str]:
    counts = {"clause_alone_reported_missing": 0, "rewrapped_recased_found": 0, "word_dropped_reported_missing": 0,
              "other_jurisdiction_name_reported_missing": 0}
    ny, uk = opts.jurisdictions[0], opts.jurisdictions[1]
    for row in rows:
        clause, disclaimer = row["clause"], disclaimer_for(opts.disclaimer, ny)
        words = disclaimer.split()
        counts["clause_alone_reported_missing"] += not has_disclaimer(clause, disclaimer)
        rewrapped = "\n".join(" ".join(words[i:i + 5]) for i in range(0, len(words), 5)).upper()
        counts["rewrapped_recased_found"] += has_disclaimer(f"{clause}\n\n{rewrapped}", disclaimer)
        dropped = " ".join(words[:7] + words[8:])
        counts["word_dropped_reported_missing"] += not has_disclaimer(f"{clause} {dropped}", disclaimer)
        other = disclaimer_for(opts.disclaimer, uk)
        counts["other_jurisdiction_name_reported_missing"] += not has_disclaimer(f"{clause} {other}", disclaimer)
    return {k: f"{v}/{len(rows)}" for k, v in counts.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = load(DATA)
    opts = LegalOptions()
    configured = opts.jurisdictions + EXTRA
    result = {
        "data": f"{DATA.name}: {len(rows)} CUAD v1 governing-law clauses; "
                f"{sum(len(label_tags(r['governing_law'])) == 1 for r in rows)} labelled with one configured "
                "jurisdiction",
        "default_markers": {j.tag: j.markers for j in opts.jurisdictions},
        "jurisdiction": jurisdiction_verdicts(rows, configured),
        "disclaimer": disclaimer_verdicts(rows, opts),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
