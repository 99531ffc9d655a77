"""Two releases byte for byte: every file SHA256SUMS lists, by name and digest.

Usage: python benchmarks/pipeline/compare_releases.py RELEASE_DIR_A RELEASE_DIR_B
Exit 0 when every row file (the splits in every format, and the schemas) is identical; files that
record the run itself (times, run ids, step timings) are listed as such, with their status.
"""

from __future__ import annotations

import sys
from pathlib import Path

from synth_pipeline.sharding import compare_sha256sums


def main() -> None:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    report = compare_sha256sums((a / "SHA256SUMS").read_text(), (b / "SHA256SUMS").read_text())
    for name, status in sorted(report.items()):
        print(f"{status:10} {name}")
    bad = [n for n, s in report.items() if s in ("different", "missing")]
    print("identical row files" if not bad else f"{len(bad)} row files differ: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
