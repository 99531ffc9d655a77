"""Secrets (model API keys) by name: from the environment, else from a secrets file.

pipeline.yaml names a secret (`api_key_env`), never holds it. The secrets file, named by
``SYNTH_PIPELINE_SECRETS_FILE``, has ``NAME=value`` lines (``#`` comments) and must not be
readable by other users, as with SSH keys. `redact` takes a secret out of any text that may come
back from a provider (an error echoing the key) before the text is stored, logged or raised.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from synth_pipeline.errors import ConfigError

SECRETS_FILE_ENV = "SYNTH_PIPELINE_SECRETS_FILE"
REDACTED = "[redacted]"


def _from_file(name: str, path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: secrets file not found (named by {SECRETS_FILE_ENV})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read secrets file: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: secrets file is readable by other users (mode {stat.S_IMODE(mode):o}); "
                          f"run chmod 600 {path}")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path}:{number}: expected NAME=value")  # the value is not echoed
        if key.strip() == name:
            return value.strip().strip('"').strip("'")
    return None


def secret(name: str) -> str | None:
    """The secret called `name`: the environment variable, else the secrets file's entry, else None."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(SECRETS_FILE_ENV)
    return _from_file(name, Path(path).expanduser()) if path else None


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret replaced by a marker."""
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text
