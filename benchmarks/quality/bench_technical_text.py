"""Benign technical prose that uses violent or obscene-looking words: how much of it each toxicity
backend flags.

Issue #11 asks that "kill the process", "shoot a photo", "execute the script" pass. The team's own
sentences are few; this measures the same thing on prose nobody here wrote and no model here trained
on: the docstrings of third-party packages the project installs (process, container, async and web
libraries, whose docs talk about killing, terminating and aborting; the toxicity model trained on
CPython's standard library docstrings only). Sentences are extracted at run time from the installed
versions (printed), as `build_toxicity_data.py` does for the standard library, and kept when they
contain one of `WORDS`. Licences of the packages read: BSD-3-Clause (psutil, joblib, uvicorn, numpy,
pandas, scikit-learn), Apache-2.0 (docker, kubernetes, dagster, selenium), MIT (anyio, sqlalchemy,
trio is MIT/Apache-2.0); nothing is copied into the repository.

Usage: python benchmarks/quality/bench_technical_text.py   (from the repository root)
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import pkgutil
import re
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build_toxicity_data import docstring_sentences  # noqa: E402

from synth_pipeline.quality.toxicity import LinearToxicityScorer, OfflineToxicityScorer  # noqa: E402

PACKAGES = {"psutil": "psutil", "docker": "docker", "kubernetes": "kubernetes", "anyio": "anyio", "trio": "trio",
            "joblib": "joblib", "uvicorn": "uvicorn", "selenium": "selenium", "dagster": "dagster",
            "sqlalchemy": "SQLAlchemy", "numpy": "numpy", "pandas": "pandas", "sklearn": "scikit-learn"}
WORDS = re.compile(r"\b(?:p?kill\w*|terminat\w*|abort\w*|execut\w*|shoot\w*|shot|hang\w*|attack\w*|exploit\w*"
                   r"|bomb\w*|explod\w*|die[sd]?|dying|dead\w*|fatal\w*|crash\w*|destroy\w*|hit|hits|strike\w*"
                   r"|slave\w*|master\w*|orphan\w*|zombie\w*|victim\w*|hack\w*|nuke\w*|murder\w*|slaughter\w*"
                   r"|choke\w*|starv\w*|poison\w*|sucks?|damn\w*|hell)\b", re.IGNORECASE)
MAX_MODULES = 400  # submodules per package, in pkgutil's order (kubernetes' generated API is huge)


def modules(package: str) -> list[str]:
    names = [package]
    try:
        path = importlib.import_module(package).__path__
    except (ImportError, AttributeError):
        return names
    for info in pkgutil.walk_packages(path, package + ".", onerror=lambda _: None):
        if len(names) >= MAX_MODULES:
            break
        if not re.search(r"\.(tests?|testing|conftest|_vendor|vendored|__main__)(\.|$)", info.name):
            names.append(info.name)
    return names


def main() -> None:
    warnings.simplefilter("ignore")
    sentences: set[str] = set()
    versions = {}
    for package, dist in PACKAGES.items():
        versions[package] = importlib.metadata.version(dist)
        sentences |= docstring_sentences(modules(package))
    texts = sorted(s for s in sentences if WORDS.search(s))
    print(json.dumps({"packages": versions, "sentences": len(sentences), "with_words": len(texts)}))
    scorers = {"linear-first-look": LinearToxicityScorer(second_look=False), "linear": LinearToxicityScorer(),
               "linear-alone": LinearToxicityScorer(with_profanity=False), "offline": OfflineToxicityScorer()}
    for name, scorer in scorers.items():
        t0 = time.perf_counter()
        scores = scorer.score(texts)
        flagged = scores > scorer.default_threshold
        top = sorted(zip(scores[flagged], (t for t, f in zip(texts, flagged, strict=True) if f), strict=True),
                     reverse=True)[:8]
        print(json.dumps({"backend": name, "flagged": int(flagged.sum()), "share": round(float(flagged.mean()), 4),
                          "seconds": round(time.perf_counter() - t0, 2),
                          "examples": [[round(float(s), 3), t[:120]] for s, t in top]}))


if __name__ == "__main__":
    main()
