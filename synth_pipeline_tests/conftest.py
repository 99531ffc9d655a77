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
