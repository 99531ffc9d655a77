"""Dagster resources: the pipeline config, storage and the teacher/judge clients."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.fs as pafs
from pydantic import PrivateAttr

from synth_pipeline.config import ModelConfig, PipelineConfig, TaxonomyConfig, load_config
from synth_pipeline.storage import TableStore

DEFAULT_CONFIG_ENV = "SYNTH_PIPELINE_CONFIG"


class PipelineResource(dg.ConfigurableResource):
    """pipeline.yaml (+ taxonomy.yaml) for the run, and the table store it names."""

    config_path: str
    out_dir: str | None = None  # overrides export.out_dir (CLI --out)

    _cache: dict = PrivateAttr(default_factory=dict)

    @property
    def _loaded(self) -> tuple[PipelineConfig, TaxonomyConfig | None]:
        if "config" not in self._cache:
            self._cache["config"] = load_config(self.config_path)
        return self._cache["config"]

    @property
    def config(self) -> PipelineConfig:
        return self._loaded[0]

    @property
    def taxonomy(self) -> TaxonomyConfig | None:
        return self._loaded[1]

    @property
    def store(self) -> TableStore:
        if "store" not in self._cache:
            self._cache["store"] = TableStore.from_config(self.config.storage, base_dir=Path.cwd(),
                                                         security=self.config.security)
        return self._cache["store"]

    def pii_scanner(self):
        """The filters' PII scanner, answering texts any earlier run scanned from the store's memo.

        Built per call: a memo loaded by the filter phase must not hide the shards it wrote from
        the checks that run after it.
        """
        from synth_pipeline.quality.pii import PiiScanner
        from synth_pipeline.quality.pii.memo import PII_MEMO_KEY

        store = self.store
        return PiiScanner.from_config(self.config.filters, memo_fs=store.fs, memo_path=store.path(PII_MEMO_KEY))

    def release_location(self) -> tuple[pafs.FileSystem, str, str]:
        """(filesystem, base path, URI) of the release folder: beside the storage when it is S3."""
        out = self.out_dir or self.config.export.out_dir
        if self.config.storage.bucket:
            key = out.strip("/")
            return self.store.fs, self.store.path(key), self.store.uri(key)
        base = str(Path(out).absolute())
        return pafs.LocalFileSystem(), base, base


class TeacherResource(dg.ConfigurableResource):
    """LLM clients for the run; the embedded local model starts on first use, stops at teardown."""

    pipeline: PipelineResource
    _server: Any = PrivateAttr(default=None)  # LocalModelServer, once started
    _cache: Any = PrivateAttr(default=None)  # ResponseCache shared by teacher and judge

    def _endpoint(self, model: ModelConfig) -> tuple[str | None, str | None]:
        if not model.is_local:
            return model.api_base, None
        from synth_pipeline.llm.local_model import LocalModelServer

        if self._server is None:
            self._server = LocalModelServer().start()
        return self._server.api_base, self._server.litellm_model

    def client(self, which: str = "teacher"):
        """An LLMClient for `teacher` or `judge`, with a response cache beside the storage."""
        from synth_pipeline.llm.cache import ResponseCache
        from synth_pipeline.llm.client import LLMClient

        config = self.pipeline.config
        model = config.teacher if which == "teacher" else config.judge_model
        api_base, model_name = self._endpoint(model)
        if self._cache is None:  # reading the cache's shards once per run, not once per client
            store = self.pipeline.store
            self._cache = ResponseCache(store.fs, store.path("cache/llm"))
        return LLMClient(model, cache=self._cache, api_base=api_base, model_name=model_name)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def default_config_path() -> str:
    return os.environ.get(DEFAULT_CONFIG_ENV, "examples/quickstart/pipeline.yaml")
