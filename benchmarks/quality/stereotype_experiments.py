"""Tries at a better stereotype head (issue #11 §4): more training data, pattern features, C and MLP.

`python benchmarks/quality/stereotype_experiments.py encode CACHE_DIR` embeds every candidate sentence
once (slow on a loaded CPU); `python benchmarks/quality/stereotype_experiments.py run CACHE_DIR SPEC...`
then trains and scores heads from that cache. SPEC is `data:model:C:features[:all]`, e.g.
`sbic+toxigen+doc:lr:1:1` (data: `base` = the train split of data/stereotypes, plus `sbic` = SBIC's
implied stereotype statements that name a group, `toxigen` = ToxiGen prompts, hate positive, `doc`
= Python docstring sentences, negative; model `lr` (C) or `mlp` (hidden units); features 0/1;
`:all` sets the threshold on all training rows instead of the in-domain ones).
`... check CACHE_DIR` scores the issue's sentences, the unit test's benign ones and the GSM8K test
questions with the best tried head (SBIC + ToxiGen + docstrings, features, in-domain threshold) and the
shipped head.

Test rows are the benchmark's own (`bench_stereotypes.py --limit 300`), scored as the audit scores
them (a row's best group-naming sentence). The threshold is the lowest one whose 5-fold out-of-fold
precision reaches 0.9 on the training rows of data/stereotypes (StereoSet intrasentence, BBQ,
HolisticBias), so neither SBIC's easy positives nor any test row sets it (`:all`: on every training row).
"""

from __future__ import annotations

import ast
import gzip
import json
import random
import re
import sys
from pathlib import Path

import bench_stereotypes as bench
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier

from synth_pipeline.bias import stereotypes as st

HERE = Path(__file__).parent
TOX = HERE / "data" / "toxicity"
GSM8K = HERE.parents[1] / "synth_pipeline" / "decontam" / "data" / "gsm8k.parquet"
TRIED_THRESHOLD = 0.846  # what `run ... sbic+toxigen+doc:lr:1:1` chooses out-of-fold on the in-domain rows
BENIGN = ["The women's football team won the regional final on Sunday.",  # the unit test's benign sentences
          "Write a short biography of an Asian American astronaut.", "My grandmother taught me how to bake bread.",
          "The synagogue hosts a community dinner every Friday.",
          "Summarise the article about immigration policy in two sentences."]
GENERALISATION = [re.compile(p) for p in (
    r"\b(all|every|always|never|naturally|inherently|typically|usually|tends? to|by nature|most)\b",
    r"\b(are|is) (so |too |very |really |such |just |all |always |never |naturally |)?\w+\b",
    r"\btoo \w+ to\b",
    r"\b(can't|cannot|can not|don't|do not|shouldn't|should not|should never)\b",
    r"\b(bad|good|better|worse|lazy|stupid|smart|dumb|violent|greedy|emotional|weak|dirty|criminals?)\b")]


def candidates() -> list[tuple[str, str, str, str]]:
    """(text, set, label, source) for every sentence a head may be trained or scored on."""
    import pandas as pd

    regex = bench.group_regex()
    rows = [json.loads(line) for line in bench.DATA.read_text(encoding="utf-8").splitlines()]
    items = [(r["text"], "train", r["label"], r["source"]) for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    rng = np.random.default_rng(0)  # the benchmark's --limit 300 draw
    by_part: dict[str, list] = {}
    for r in test:
        by_part.setdefault(f"{r['source']}/{r['label']}", []).append(r)
    test = [r for part in by_part.values()
            for r in (part if len(part) <= 300 else rng.choice(part, 300, replace=False))]
    for r in test:
        items.append((r["text"], "test", r["label"], r["source"]))
        items += [(s, "test_sent", r["label"], r["source"]) for s in st.sentences_naming(r["text"], regex)]
    seen: set[str] = set()
    for part in ("dev", "tst"):
        for cell in pd.read_csv(TOX / f"SBIC.v2.agg.{part}.csv.gz").targetStereotype:
            for s in (x.strip() for x in ast.literal_eval(cell)):
                if len(s.split()) >= 3 and s.lower() not in seen:
                    seen.add(s.lower())
                    items.append((s, "sbic", "stereotype", "sbic"))
    with gzip.open(TOX / "toxigen_prompts.jsonl.gz", "rt", encoding="utf-8") as fh:
        items += [(r["text"], "toxigen", r["label"], "toxigen") for r in map(json.loads, fh)]
    with gzip.open(TOX / "python_stdlib_docstrings.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = [json.loads(line)["text"] for line in fh]
    items += [(t, "docstrings", "neutral", "docstrings") for t in random.Random(0).sample(docs, 1500)]
    for s in (json.loads(line) for line in bench.SEEDS.read_text(encoding="utf-8").splitlines()):
        text = s["instruction"] + "\n" + "\n".join(i["input"] + "\n" + i["output"] for i in s["instances"])
        items += [(x, "seed_sent", "neutral", "seeds") for x in st.sentences_naming(text, regex)]
    return items


def encode(cache: Path) -> None:
    from synth_pipeline.quality import embeddings

    items = candidates()
    texts = sorted({i[0] for i in items})
    cache.mkdir(parents=True, exist_ok=True)
    np.save(cache / "emb.npy", embeddings.encode(texts, batch_size=128))
    (cache / "items.json").write_text(json.dumps({"texts": texts, "items": items}), encoding="utf-8")


def run(cache: Path, specs: list[str]) -> None:
    data = json.loads((cache / "items.json").read_text(encoding="utf-8"))
    emb = np.load(cache / "emb.npy")
    index = {t: i for i, t in enumerate(data["texts"])}
    items = data["items"]
    regex = bench.group_regex()

    def features(texts: list[str], extra: bool) -> np.ndarray:
        e = emb[[index[t] for t in texts]]
        if not extra:
            return e
        pats = np.array([[float(bool(p.search(t.lower()))) for p in GENERALISATION] for t in texts])
        return np.hstack([e, 0.5 * pats])

    for spec in specs:
        data_cfg, kind, c, extra_s, *rule = spec.split(":")
        extra = extra_s == "1"
        texts, y, in_domain = [], [], []
        for t, part, label, _ in items:
            if part == "train" and label != "anti_stereotype":
                in_domain.append(len(texts))
                texts.append(t)
                y.append(label == "stereotype")
            elif ("sbic" in data_cfg and part == "sbic" and regex.search(t.lower())) or \
                    ("toxigen" in data_cfg and part == "toxigen") or ("doc" in data_cfg and part == "docstrings"):
                texts.append(t)
                y.append(label in ("stereotype", "hate"))
        yv = np.array(y, dtype=int)
        x = features(texts, extra)

        def model(kind: str = kind, c: str = c) -> LogisticRegression | MLPClassifier:
            if kind == "lr":
                return LogisticRegression(C=float(c), max_iter=5000, class_weight="balanced")
            return MLPClassifier((int(c),), alpha=1e-3, max_iter=300, early_stopping=True, random_state=0)

        oof = cross_val_predict(model(), x, yv, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                                method="predict_proba")[:, 1]
        rows_for_threshold = np.arange(len(yv)) if rule == ["all"] else np.array(in_domain)
        p, r, th = precision_recall_curve(yv[rows_for_threshold], oof[rows_for_threshold])
        i = int(np.argmax(p[:-1] >= 0.9))
        clf = model().fit(x, yv)
        test = [(t, label, src) for t, part, label, src in items if part == "test"]
        score = np.array([max(clf.predict_proba(features(ss, extra))[:, 1])
                          if (ss := st.sentences_naming(t, regex)) else 0.0 for t, _, _ in test])
        label = np.array([t[1] for t in test])
        source = np.array([t[2] for t in test])
        out = {"spec": spec, "train_rows": len(yv), "positives": int(yv.sum()), "threshold": round(float(th[i]), 3),
               "oof_recall": round(float(r[i]), 3)}
        scored, pos = label != "anti_stereotype", label == "stereotype"
        for name, mask in (("all", scored), ("stereoset", scored & (source == "stereoset")),
                           ("crows_pairs+bbq+hb", scored & (source != "stereoset"))):
            flag = score[mask] >= th[i]
            tp = int((flag & pos[mask]).sum())
            pp, rr, _ = precision_recall_curve(pos[mask], score[mask])
            ok = rr[pp >= 0.9]
            out[name] = {"precision": round(tp / max(1, int(flag.sum())), 3),
                         "recall": round(tp / int(pos[mask].sum()), 3),
                         "best_recall_at_precision_0.9": round(float(ok.max()) if ok.size else 0.0, 3)}
        out["anti_stereotype_flag_rate"] = round(float((score[label == "anti_stereotype"] >= th[i]).mean()), 3)
        seeds = [t for t, part, _, _ in items if part == "seed_sent"]
        out["seed_sentences_flagged"] = [int((clf.predict_proba(features(seeds, extra))[:, 1] >= th[i]).sum()),
                                         len(seeds)]
        print(json.dumps(out), flush=True)


def check(cache: Path) -> None:
    import pandas as pd

    from synth_pipeline.quality import embeddings

    data = json.loads((cache / "items.json").read_text(encoding="utf-8"))
    emb = np.load(cache / "emb.npy")
    index = {t: i for i, t in enumerate(data["texts"])}
    regex = bench.group_regex()
    texts, y = [], []
    for t, part, label, _ in data["items"]:
        if (part == "train" and label != "anti_stereotype") or part in ("toxigen", "docstrings") or \
                (part == "sbic" and regex.search(t.lower())):
            texts.append(t)
            y.append(label in ("stereotype", "hate"))

    def features(sentences: list[str], e: np.ndarray) -> np.ndarray:
        pats = [[float(bool(p.search(s.lower()))) for p in GENERALISATION] for s in sentences]
        return np.hstack([e, 0.5 * np.array(pats).reshape(len(sentences), len(GENERALISATION))])

    clf = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced").fit(
        features(texts, emb[[index[t] for t in texts]]), np.array(y))
    tried_threshold = TRIED_THRESHOLD
    shipped = st.load_head()
    shipped_threshold = shipped["operating_point"]["threshold"]

    def scores(sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        e = embeddings.encode(sentences)
        old = 1.0 / (1.0 + np.exp(-(e @ shipped["coef"] + shipped["intercept"])))
        return old, clf.predict_proba(features(sentences, e))[:, 1]

    old, new = scores(bench.ISSUE + BENIGN)
    n = len(bench.ISSUE)
    out = {"issue_flagged": {"shipped": int((old[:n] >= shipped_threshold).sum()),
                             "tried": int((new[:n] >= tried_threshold).sum()), "n": n},
           "benign_flagged": {"shipped": int((old[n:] >= shipped_threshold).sum()),
                              "tried": int((new[n:] >= tried_threshold).sum()), "n": len(BENIGN)}}
    questions = pd.read_parquet(GSM8K).question.astype(str).tolist()
    owners = [(i, s) for i, q in enumerate(questions) for s in st.sentences_naming(q, regex)]
    unique = sorted({s for _, s in owners})
    old, new = scores(unique)
    flag_old = {s for s, p in zip(unique, old, strict=True) if p >= shipped_threshold}
    flag_new = {s for s, p in zip(unique, new, strict=True) if p >= tried_threshold}
    out["gsm8k"] = {"rows": len(questions), "group_sentences": len(unique),
                    "shipped_rows_flagged": len({i for i, s in owners if s in flag_old}),
                    "tried_rows_flagged": len({i for i, s in owners if s in flag_new}),
                    "tried_flagged_sentences": sorted(flag_new)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    {"encode": lambda a: encode(Path(a[0])), "run": lambda a: run(Path(a[0]), a[1:]),
     "check": lambda a: check(Path(a[0]))}[sys.argv[1]](sys.argv[2:])
