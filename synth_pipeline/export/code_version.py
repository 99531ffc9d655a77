"""Which code made a release: the package version, plus the git commit in a checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import synth_pipeline


def code_version() -> str:
    """Package version, plus the git commit when running from a checkout (best effort)."""
    version = f"synth-pipeline {synth_pipeline.__version__}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(synth_pipeline.__file__).parent,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version} (git {commit})" if commit else version
