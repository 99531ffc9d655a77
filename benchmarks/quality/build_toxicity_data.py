"""Rebuild the two extracts under data/toxicity/ that are not plain copies (see SOURCE.md).

python benchmarks/quality/build_toxicity_data.py toxigen PATH/TO/TOXIGEN/prompts
    ToxiGen's prompt files -> toxigen_prompts.jsonl.gz (each `\\n- `-separated sentence once,
    labelled by its file: hate_* or neutral_*).
python benchmarks/quality/build_toxicity_data.py stdlib
    sentences of 5-40 words from the running CPython's standard-library docstrings ->
    python_stdlib_docstrings.jsonl.gz (the committed file was built with CPython 3.11).
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).parent / "data" / "toxicity"

STDLIB = (  # noqa: SIM905 (a word list reads better as one string)
    "subprocess signal os shutil threading multiprocessing asyncio socket logging argparse json csv sqlite3 "
    "unittest pathlib tempfile zipfile tarfile http.client urllib.request email smtplib ftplib pdb timeit sched "
    "selectors concurrent.futures queue heapq collections functools itertools re string textwrap datetime "
    "calendar random statistics decimal fractions hashlib hmac secrets ssl uuid pickle shelve gzip bz2 lzma glob "
    "fnmatch stat filecmp io time platform ctypes traceback warnings contextlib abc inspect dis ast tokenize "
    "doctest venv zipimport importlib sys gc weakref copy pprint enum dataclasses typing operator math cmath "
    "array struct codecs locale gettext getopt configparser netrc mailbox mimetypes base64 binascii html "
    "html.parser xml.dom.minidom xml.etree.ElementTree webbrowser wsgiref socketserver http.server "
    "xmlrpc.client ipaddress tkinter turtle cmd shlex curses pty tty termios resource syslog faulthandler "
    "tracemalloc cProfile profile trace bdb code codeop runpy pkgutil modulefinder compileall py_compile "
    "zoneinfo graphlib bisect difflib unicodedata readline rlcompleter select mmap fcntl pwd grp errno"
).split()


def _write(name: str, rows: list[dict]) -> None:
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows).encode())
    print(f"{name}: {len(rows)} rows")


def toxigen(prompts: Path) -> None:
    rows: dict[str, dict] = {}
    for path in sorted(prompts.glob("*_1k.txt")):
        label, group = path.name[: -len("_1k.txt")].split("_", 1)
        for line in path.read_text(encoding="utf-8").splitlines():
            for sentence in line.split("\\n"):
                text = sentence.strip().lstrip("-").strip()
                if text and text not in rows:
                    rows[text] = {"text": text, "label": label, "group": group, "file": f"prompts/{path.name}"}
    _write("toxigen_prompts.jsonl.gz", list(rows.values()))


def _module_docs(name: str) -> list[str]:
    try:
        mod = importlib.import_module(name)
    except (Exception, SystemExit):  # missing on this build (curses, tkinter), or a CLI that runs on import
        return []
    top = name.split(".")[0]
    docs = [inspect.getdoc(mod) or ""]
    for attr, obj in vars(mod).items():
        owner = getattr(obj, "__module__", "")
        if attr.startswith("_") or not isinstance(owner, str) or owner.split(".")[0] != top:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj):
            docs.append(inspect.getdoc(obj) or "")
        if inspect.isclass(obj):
            docs += [inspect.getdoc(m) or "" for n, m in vars(obj).items() if not n.startswith("_") and callable(m)]
    return docs


def docstring_sentences(modules: list[str]) -> set[str]:
    """Prose sentences of 5-40 words from the modules' docstrings (doctests and signatures left out)."""
    sentences: set[str] = set()
    for name in modules:
        for doc in _module_docs(name):
            for para in doc.split("\n\n"):
                para = " ".join(para.split())
                if not para or ">>>" in para or para.count("(") > 4:
                    continue
                for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para):
                    if 5 <= len(s.split()) <= 40 and re.search(r"[a-z]", s):
                        sentences.add(s)
    return sentences


def stdlib() -> None:
    _write("python_stdlib_docstrings.jsonl.gz", [{"text": s} for s in sorted(docstring_sentences(STDLIB))])


if __name__ == "__main__":
    if sys.argv[1:2] == ["toxigen"] and len(sys.argv) == 3:
        toxigen(Path(sys.argv[2]))
    elif sys.argv[1:] == ["stdlib"]:
        stdlib()
    else:
        sys.exit(__doc__)
