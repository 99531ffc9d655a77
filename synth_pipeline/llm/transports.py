"""Wire protocols of the client: both turn one chat call into an `Answer` or a `CallError`.

* `HttpTransport` — a lean aiohttp client for OpenAI-compatible endpoints (OpenAI, vLLM,
  llama.cpp, Ollama, TGI, the embedded local model): bulk generation is CPU-bound on the client
  side, and this path skips litellm's per-call work and import.
* `LitellmTransport` — every other provider (Anthropic, Gemini, Bedrock, ...), for coverage.

Retries, limits and caching are the client's; a transport only classifies failures as
retryable or not.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import time
from typing import Any, Protocol

from synth_pipeline.config import ModelConfig
from synth_pipeline.offline import use_offline_defaults

# Providers whose wire protocol is OpenAI's chat/completions: served by the lean HTTP path.
OPENAI_COMPATIBLE_PREFIXES = ("openai/", "hosted_vllm/", "local/")
OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"

# text, tokens_in, tokens_out, finish_reason, cost (None: price it from the cost map)
Answer = tuple[str, int, int, "str | None", "float | None"]


class CallError(Exception):
    """One failed attempt; `kind` is the counter name, `retryable` decides whether to try again."""

    def __init__(self, kind: str, message: str, retryable: bool, retry_after: float | None = None):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after


class Transport(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def forget(self) -> None: ...

    async def call(self, wire_model: str, messages: Any, params: dict[str, Any]) -> Answer: ...


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def select_transport(model: ModelConfig, model_name: str, api_base: str | None,
                     api_key: str | None) -> tuple[str, str, Transport]:
    """(transport name, model name on the wire, transport) for `model_name` at `api_base`."""
    transport = model.transport
    if transport == "auto":
        openai_like = model_name.startswith(OPENAI_COMPATIBLE_PREFIXES) or "/" not in model_name
        transport = "http" if openai_like else "litellm"
    if transport == "http":
        base = api_base or OPENAI_DEFAULT_BASE
        if api_key is None and not api_base:
            api_key = os.environ.get("OPENAI_API_KEY")
        wire_model = (model_name.split("/", 1)[1] if model_name.startswith(OPENAI_COMPATIBLE_PREFIXES)
                      else model_name)
        return transport, wire_model, HttpTransport(base, api_key or "sk-no-key", model.timeout_s,
                                                    model.max_concurrency)
    return transport, model_name, LitellmTransport(api_base, api_key, model.timeout_s)


class HttpTransport:
    """OpenAI-compatible chat/completions over one pooled aiohttp session per event loop."""

    def __init__(self, api_base: str, api_key: str | None, timeout_s: float, pool: int) -> None:
        self.url = api_base.rstrip("/") + "/chat/completions"
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout_s = timeout_s
        self.pool = pool
        self._session: Any = None
        import aiohttp  # at construction, not inside the first batch of calls

        self.aiohttp = aiohttp

    async def open(self) -> None:
        """Sessions open lazily on the first real call: an all-cached run touches no network code."""
        return None

    def _ensure_session(self) -> Any:
        if self._session is None or self._session.closed:
            aiohttp = self.aiohttp
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers=self.headers,
            )
        return self._session

    def forget(self) -> None:
        self._session = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, wire_model: str, messages: Any, params: dict[str, Any]) -> Answer:
        aiohttp = self.aiohttp
        body = {"model": wire_model, "messages": messages, **params}
        try:
            async with self._ensure_session().post(self.url, data=json.dumps(body)) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except TimeoutError:
            raise CallError("timeout", f"no answer within {self.timeout_s:g} s", True) from None
        except aiohttp.ClientPayloadError as exc:
            raise CallError("truncated_response", str(exc) or type(exc).__name__, True) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise CallError("connection_error", str(exc) or type(exc).__name__, True) from None
        if status == 429:
            raise CallError("rate_limited", raw[:200].decode("utf-8", "replace"), True,
                            retry_after_seconds(retry_after))
        if status >= 500 or status == 408:
            raise CallError(f"http_{status}", raw[:200].decode("utf-8", "replace"), True,
                            retry_after_seconds(retry_after))
        if status >= 400:
            raise CallError(f"http_{status}", raw[:500].decode("utf-8", "replace"), False)
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("message.content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise CallError("malformed_response", f"{type(exc).__name__}: {exc}; body={raw[:200]!r}",
                            True) from None
        usage = data.get("usage") or {}
        t_in, t_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        if not usage:  # some servers omit usage: a ~4 chars/token estimate beats reporting nothing
            t_in = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 1
            t_out = len(text) // 4 + 1
        return text, t_in, t_out, choice.get("finish_reason"), None


class LitellmTransport:
    """Any litellm provider; litellm's own retries are off so the client's (with cooldown) apply."""

    def __init__(self, api_base: str | None, api_key: str | None, timeout_s: float) -> None:
        use_offline_defaults()
        import litellm

        litellm.suppress_debug_info = True
        self.litellm = litellm
        self.api_base = api_base
        # A self-hosted OpenAI-compatible base needs some key on the wire, even an unused one.
        self.api_key = api_key or ("sk-no-key" if api_base else None)
        self.timeout_s = timeout_s

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def forget(self) -> None:
        return None

    async def call(self, wire_model: str, messages: Any, params: dict[str, Any]) -> Answer:
        lt = self.litellm
        try:
            resp = await lt.acompletion(
                model=wire_model, messages=messages, api_base=self.api_base, api_key=self.api_key,
                timeout=self.timeout_s, num_retries=0, max_retries=0, **params,
            )
        except lt.RateLimitError as exc:
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            raise CallError("rate_limited", str(exc)[:200], True,
                            retry_after_seconds(headers.get("retry-after"))) from None
        except lt.Timeout as exc:
            raise CallError("timeout", str(exc)[:200], True) from None
        except (lt.InternalServerError, lt.ServiceUnavailableError, lt.BadGatewayError) as exc:
            raise CallError(f"http_{getattr(exc, 'status_code', 500)}", str(exc)[:200], True) from None
        except lt.APIConnectionError as exc:
            raise CallError("connection_error", str(exc)[:200], True) from None
        except Exception as exc:  # provider-specific 4xx and friends: not worth retrying
            raise CallError(type(exc).__name__, str(exc)[:500], False) from None
        try:
            choice = resp.choices[0]
            text = choice.message.content
            if not isinstance(text, str):
                raise TypeError("message.content is not a string")
        except (AttributeError, IndexError, TypeError) as exc:
            raise CallError("malformed_response", str(exc), True) from None
        usage = getattr(resp, "usage", None)
        cost = None
        with contextlib.suppress(Exception):
            cost = float(lt.completion_cost(completion_response=resp))
        return (text, int(getattr(usage, "prompt_tokens", 0) or 0),
                int(getattr(usage, "completion_tokens", 0) or 0), choice.finish_reason, cost)
