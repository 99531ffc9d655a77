"""Session-wide real servers and offline environment for the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synth_pipeline.offline import use_offline_defaults

use_offline_defaults()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from synth_pipeline_tests.servers import seaweed_s3

    with seaweed_s3(tmp_path_factory.mktemp("weed")) as server:
        yield server


@pytest.fixture(scope="session")
def local_model() -> Iterator:
    """The embedded SmolLM2 teacher, one server for the whole session."""
    from synth_pipeline.llm.local_model import LocalModelServer

    with LocalModelServer() as server:
        yield server


@pytest.fixture(scope="session")
def validate_model_cache(tmp_path_factory: pytest.TempPathFactory):
    """`validate.cache_dir` for the session: one fp32 conversion of the embedded model, one baseline.

    $SYNTH_PIPELINE_TEST_MODEL_CACHE keeps them across sessions (a CI cache, a busy machine)."""
    import os
    from pathlib import Path

    kept = os.environ.get("SYNTH_PIPELINE_TEST_MODEL_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("validate_models")


@pytest.fixture(scope="session")
def pg_server() -> Iterator:
    """A real PostgreSQL 15 server on 127.0.0.1 for the session; `pg_server.create_database(name)` gives a URL.

    Its folder is made directly under the system temp dir: pytest's own temp root is private to
    root, and the server runs as the `postgres` user when the suite runs as root.
    """
    import shutil
    import tempfile
    from pathlib import Path

    from synth_pipeline_tests.servers import postgres

    data_dir = Path(tempfile.mkdtemp(prefix="synth-pg-"))
    try:
        with postgres(data_dir) as server:
            yield server
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
