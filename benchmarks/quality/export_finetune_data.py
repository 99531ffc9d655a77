"""Write the fine-tuned classifiers' training and test rows as JSONL, from the committed corpora.

`finetune_classifier.py` reads only these files, so it runs wherever torch, transformers and peft
are installed (an accelerator machine included) without this package's other dependencies.
Toxicity: the rows of `toxicity_data.training_rows()` (instruction rows included) and the four
test sets. Stereotypes: the train split of data/stereotypes plus the extra sources the experiments
found useful (SBIC implied statements, ToxiGen prompts, docstrings, seed-task sentences naming a
group), and the whole test split.
Usage: python benchmarks/quality/export_finetune_data.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import toxicity_data as tox  # noqa: E402

STEREO_LABELS = {"stereotype": 1, "unrelated": 0, "neutral": 0, "anti_stereotype": -1}  # -1: left to the trainer


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{path}: {len(rows)} rows")


def toxicity(out: Path) -> None:
    _write(out / "toxicity_train.jsonl",
           [{"text": t, "label": y, "source": s} for t, y, s in tox.training_rows(instruction_data=True)])
    _write(out / "toxicity_test_hatecheck.jsonl",
           [{"text": r["test_case"], "label": int(r["label_gold"] == "hateful"), "source": r["functionality"]}
            for r in tox.hatecheck()])
    for name, rows in (("sbic", tox.sbic_test()), ("dynahate", tox.dynahate_test()),
                       ("hatemoji", tox.hatemoji_test())):
        _write(out / f"toxicity_test_{name}.jsonl", [{"text": t, "label": y, "source": name} for t, y in rows])


def stereotypes(out: Path) -> None:
    import stereotype_experiments as exp

    train, test = [], []
    for text, part, label, source in exp.candidates():
        if part in ("test", "test_sent"):
            continue  # the benchmark's own test rows come from the full split below
        train.append({"text": text, "label": STEREO_LABELS[label] if label in STEREO_LABELS else int(label == "hate"),
                      "source": source, "kind": label})
    for line in exp.bench.DATA.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["split"] == "test":
            test.append({"text": r["text"], "label": STEREO_LABELS[r["label"]], "source": r["source"],
                         "kind": r["label"]})
    _write(out / "stereotype_train.jsonl", train)
    _write(out / "stereotype_test.jsonl", test)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    toxicity(target)
    stereotypes(target)
