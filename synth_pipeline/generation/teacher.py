"""Teacher client: concurrent chat calls that are never lost, never paid twice, never hang.

Two transports share one retry/limit/cache core:

* ``http`` — a lean aiohttp client for OpenAI-compatible endpoints (OpenAI, vLLM, llama.cpp,
  Ollama, TGI, the embedded local model). Bulk generation is CPU-bound on the client side, and
  litellm's ~5 ms of CPU per call caps it near half of ideal throughput on a small machine.
* ``litellm`` — every other provider (Anthropic, Gemini, Bedrock, ...), for coverage.

A failed call never raises: after the last retry its error lands in the ``ChatResult``, and
the caller puts the row in its rejected table. Every answered call is written to the
``ResponseCache`` the moment it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib.util
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from synth_pipeline.config import ModelConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.generation.cache import ResponseCache, cache_key

# Providers whose wire protocol is OpenAI's chat/completions: served by the lean HTTP path.
_OPENAI_COMPATIBLE_PREFIXES = ("openai/", "hosted_vllm/", "local/")
_OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"


@dataclass(frozen=True)
class ChatRequest:
    """One chat call. `key` is the caller's handle (e.g. the row id), not the cache key."""

    key: str
    messages: Sequence[Mapping[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: Mapping[str, Any] | None = None
    sample_index: int = 0
    attempt: int = 0  # re-ask after an invalid answer: a new cache entry, a new seed
    top_p: float | None = None


@dataclass
class ChatResult:
    key: str
    text: str | None
    error: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    model: str = ""
    finish_reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


@dataclass
class TeacherStats:
    """Cumulative counters of one client; `calls` counts HTTP attempts actually sent."""

    calls: int = 0
    succeeded: int = 0
    cache_hits: int = 0
    retries: int = 0
    rate_limited: int = 0
    failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    errors: Counter = field(default_factory=Counter)  # final errors by type
    attempt_errors: Counter = field(default_factory=Counter)  # every failed attempt by type

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = dict(self.errors)
        out["attempt_errors"] = dict(self.attempt_errors)
        out["cost_usd"] = round(self.cost_usd, 8)
        return out

    def since(self, before: dict[str, Any]) -> dict[str, Any]:
        """Counters accumulated after the `as_dict()` snapshot `before`."""
        now = self.as_dict()
        out: dict[str, Any] = {}
        for name, value in now.items():
            if isinstance(value, dict):
                prev = before.get(name, {})
                diff = {k: v - prev.get(k, 0) for k, v in value.items() if v - prev.get(k, 0)}
                out[name] = diff
            else:
                out[name] = value - before.get(name, 0)
        out["cost_usd"] = round(out["cost_usd"], 8)
        return out


# text, tokens_in, tokens_out, finish_reason, cost (None: price it from the cost map)
_Answer = tuple[str, int, int, "str | None", "float | None"]


class _CallError(Exception):
    def __init__(self, kind: str, message: str, retryable: bool, retry_after: float | None = None):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after


def _retry_after_seconds(value: str | None) -> float | None:
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


@lru_cache(maxsize=1)
def _cost_map() -> dict[str, Any]:
    """litellm's bundled price table, read as a file so the HTTP path skips litellm's import."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "model_prices_and_context_window_backup.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def price(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD for one call from litellm's offline cost map; unknown (e.g. local) models cost 0."""
    table = _cost_map()
    entry = table.get(model) or table.get(model.split("/", 1)[-1])
    if not entry:
        return 0.0
    return (tokens_in * float(entry.get("input_cost_per_token") or 0.0)
            + tokens_out * float(entry.get("output_cost_per_token") or 0.0))


class _Pacer:
    """Spaces call starts so requests/min and tokens/min are never exceeded in any window."""

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.req_gap = 60.0 / rpm if rpm else 0.0
        self.tok_gap = 60.0 / tpm if tpm else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self.req_gap or self.tok_gap)

    async def wait(self, tokens: int) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, self._next)
            self._next = start + max(self.req_gap, tokens * self.tok_gap)
            if start > now:
                await asyncio.sleep(start - now)


class _HttpTransport:
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

    async def call(self, wire_model: str, messages: Any, params: dict[str, Any]) -> _Answer:
        aiohttp = self.aiohttp
        body = {"model": wire_model, "messages": messages, **params}
        try:
            async with self._ensure_session().post(self.url, data=json.dumps(body)) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except TimeoutError:
            raise _CallError("timeout", f"no answer within {self.timeout_s:g} s", True) from None
        except aiohttp.ClientPayloadError as exc:
            raise _CallError("truncated_response", str(exc) or type(exc).__name__, True) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _CallError("connection_error", str(exc) or type(exc).__name__, True) from None
        if status == 429:
            raise _CallError("rate_limited", raw[:200].decode("utf-8", "replace"), True,
                             _retry_after_seconds(retry_after))
        if status >= 500 or status == 408:
            raise _CallError(f"http_{status}", raw[:200].decode("utf-8", "replace"), True,
                             _retry_after_seconds(retry_after))
        if status >= 400:
            raise _CallError(f"http_{status}", raw[:500].decode("utf-8", "replace"), False)
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("message.content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _CallError("malformed_response", f"{type(exc).__name__}: {exc}; body={raw[:200]!r}",
                             True) from None
        usage = data.get("usage") or {}
        t_in, t_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        if not usage:  # some servers omit usage: a ~4 chars/token estimate beats reporting nothing
            t_in = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 1
            t_out = len(text) // 4 + 1
        return text, t_in, t_out, choice.get("finish_reason"), None


class _LitellmTransport:
    """Any litellm provider; litellm's own retries are off so ours (with cooldown) apply."""

    def __init__(self, api_base: str | None, api_key: str | None, timeout_s: float) -> None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
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

    async def call(self, wire_model: str, messages: Any, params: dict[str, Any]) -> _Answer:
        lt = self.litellm
        try:
            resp = await lt.acompletion(
                model=wire_model, messages=messages, api_base=self.api_base, api_key=self.api_key,
                timeout=self.timeout_s, num_retries=0, max_retries=0, **params,
            )
        except lt.RateLimitError as exc:
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            raise _CallError("rate_limited", str(exc)[:200], True,
                             _retry_after_seconds(headers.get("retry-after"))) from None
        except lt.Timeout as exc:
            raise _CallError("timeout", str(exc)[:200], True) from None
        except (lt.InternalServerError, lt.ServiceUnavailableError, lt.BadGatewayError) as exc:
            raise _CallError(f"http_{getattr(exc, 'status_code', 500)}", str(exc)[:200], True) from None
        except lt.APIConnectionError as exc:
            raise _CallError("connection_error", str(exc)[:200], True) from None
        except Exception as exc:  # provider-specific 4xx and friends: not worth retrying
            raise _CallError(type(exc).__name__, str(exc)[:500], False) from None
        try:
            choice = resp.choices[0]
            text = choice.message.content
            if not isinstance(text, str):
                raise TypeError("message.content is not a string")
        except (AttributeError, IndexError, TypeError) as exc:
            raise _CallError("malformed_response", str(exc), True) from None
        usage = getattr(resp, "usage", None)
        cost = None
        with contextlib.suppress(Exception):
            cost = float(lt.completion_cost(completion_response=resp))
        return (text, int(getattr(usage, "prompt_tokens", 0) or 0),
                int(getattr(usage, "completion_tokens", 0) or 0), choice.finish_reason, cost)


class TeacherClient:
    """Chat completions for a `ModelConfig`, with cache, limits, retries and accounting.

    For the embedded local model pass the LocalModelServer's ``api_base`` and
    ``litellm_model`` as `api_base` / `model_name`.
    """

    def __init__(self, model: ModelConfig, cache: ResponseCache | None = None,
                 api_base: str | None = None, model_name: str | None = None) -> None:
        self.config = model
        self.cache = cache
        self.model_name = model_name or model.model
        self.api_base = api_base or model.api_base
        if model.is_local and not self.api_base:
            raise ConfigError(f"model {model.model!r} is the embedded local model: start a LocalModelServer "
                              "and pass its api_base and litellm_model")
        # Provenance and cache identity: the configured model, not the port it happens to run on.
        self.model_id = model.model
        api_key = None
        if model.api_key_env:
            api_key = os.environ.get(model.api_key_env)
            if not api_key:
                raise ConfigError(f"api_key_env of model {model.model!r}: environment variable "
                                  f"{model.api_key_env} is not set")
        transport = model.transport
        if transport == "auto":
            name = self.model_name
            openai_like = name.startswith(_OPENAI_COMPATIBLE_PREFIXES) or "/" not in name
            transport = "http" if openai_like else "litellm"
        self.transport_name = transport
        if transport == "http":
            base = self.api_base or _OPENAI_DEFAULT_BASE
            if api_key is None and not self.api_base:
                api_key = os.environ.get("OPENAI_API_KEY")
            self.wire_model = self.model_name.split("/", 1)[1] if self.model_name.startswith(
                _OPENAI_COMPATIBLE_PREFIXES) else self.model_name
            self._transport: _HttpTransport | _LitellmTransport = _HttpTransport(
                base, api_key or "sk-no-key", model.timeout_s, model.max_concurrency)
        else:
            self.wire_model = self.model_name
            self._transport = _LitellmTransport(self.api_base, api_key, model.timeout_s)
        self.price_model = self.wire_model if not model.is_local else ""
        if self.price_model:
            _cost_map()  # load the price table now, not inside the first wave of answers
        self.stats = TeacherStats()
        self._cool_until = 0.0
        self._users = 0
        self._loop_state: tuple[Any, asyncio.Semaphore, _Pacer] | None = None

    # -- parameters and keys -------------------------------------------------------------

    def params_for(self, req: ChatRequest) -> dict[str, Any]:
        """The sampling parameters sent on the wire (and hashed into the cache key)."""
        cfg = self.config
        params: dict[str, Any] = {
            "temperature": cfg.temperature if req.temperature is None else req.temperature,
            "top_p": cfg.top_p if req.top_p is None else req.top_p,
            "max_tokens": req.max_tokens or cfg.max_tokens,
        }
        if cfg.seed is not None:
            # Distinct samples of one prompt need distinct seeds on deterministic servers.
            params["seed"] = cfg.seed + req.sample_index + 7919 * req.attempt
        if req.response_format is not None:
            params["response_format"] = dict(req.response_format)
        return params

    def key_for(self, req: ChatRequest) -> str:
        return cache_key(self.model_id, [dict(m) for m in req.messages], self.params_for(req),
                         req.sample_index)

    # -- calling -------------------------------------------------------------------------

    def complete(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Sync wrapper of `acomplete` (runs its own event loop, in a thread if one is running)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _run(self.acomplete(requests))
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["out"] = _run(self.acomplete(requests))
            except BaseException as exc:  # pragma: no cover - re-raised below
                box["exc"] = exc

        t = threading.Thread(target=target)
        t.start()
        t.join()
        if "exc" in box:
            raise box["exc"]
        return box["out"]

    async def acomplete(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Answer every request; the result list is in request order and never raises per call."""
        loop = asyncio.get_running_loop()
        if self._loop_state is None or self._loop_state[0] is not loop:
            self._loop_state = (loop, asyncio.Semaphore(self.config.max_concurrency),
                                _Pacer(self.config.rpm, self.config.tpm))
            self._transport.forget()  # a session belongs to the loop that made it
            self._users = 0
        self._users += 1
        try:
            await self._transport.open()
            return list(await asyncio.gather(*(self._one(r) for r in requests)))
        finally:
            self._users -= 1
            if self._users == 0:
                await self._transport.close()

    async def _one(self, req: ChatRequest) -> ChatResult:
        params = self.params_for(req)
        messages = [dict(m) for m in req.messages]
        key = cache_key(self.model_id, messages, params, req.sample_index)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                return ChatResult(req.key, hit["text"], None, hit.get("tokens_in", 0),
                                  hit.get("tokens_out", 0), hit.get("cost_usd", 0.0), True, self.model_id,
                                  hit.get("finish_reason"), params)
        _, sem, pacer = self._loop_state  # type: ignore[misc]
        loop = asyncio.get_running_loop()
        cfg = self.config
        last: _CallError | None = None
        for attempt in range(cfg.max_retries + 1):
            async with sem:
                while (wait := self._cool_until - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if pacer.active:
                    est = sum(len(m.get("content") or "") for m in messages) // 4 + params["max_tokens"]
                    await pacer.wait(est)
                    while (wait := self._cool_until - loop.time()) > 0:
                        await asyncio.sleep(wait)
                self.stats.calls += 1
                try:
                    text, t_in, t_out, finish, cost = await self._transport.call(
                        self.wire_model, messages, params)
                except _CallError as exc:
                    last = exc
                else:
                    if cost is None:
                        cost = price(self.price_model, t_in, t_out) if self.price_model else 0.0
                    self.stats.succeeded += 1
                    self.stats.tokens_in += t_in
                    self.stats.tokens_out += t_out
                    self.stats.cost_usd += cost
                    if self.cache is not None:
                        entry = {"text": text, "tokens_in": t_in, "tokens_out": t_out, "cost_usd": cost,
                                 "finish_reason": finish, "model": self.model_id,
                                 "created_at": time.time()}
                        if self.cache.is_local:
                            self.cache.put(key, entry)
                        else:
                            await asyncio.to_thread(self.cache.put, key, entry)
                    return ChatResult(req.key, text, None, t_in, t_out, cost, False, self.model_id, finish,
                                      params)
            self.stats.attempt_errors[last.kind] += 1
            if not last.retryable or attempt == cfg.max_retries:
                break
            self.stats.retries += 1
            if last.kind == "rate_limited":
                self.stats.rate_limited += 1
                delay = last.retry_after if last.retry_after is not None else self._backoff(attempt)
                # One 429 pauses the whole client, not just this request.
                self._cool_until = max(self._cool_until, loop.time() + min(delay, cfg.retry_max_s))
            else:
                delay = last.retry_after if last.retry_after is not None else self._backoff(attempt)
                await asyncio.sleep(min(delay, cfg.retry_max_s))
        assert last is not None
        self.stats.failed += 1
        self.stats.errors[last.kind] += 1
        return ChatResult(req.key, None, f"{last} (after {attempt + 1} attempt(s))", model=self.model_id,
                          params=params)

    def _backoff(self, attempt: int) -> float:
        base = min(self.config.retry_max_s, self.config.retry_base_s * (2 ** attempt))
        return base * random.uniform(0.5, 1.0)


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with our deps, but stay portable
        return asyncio.run(coro)
    return uvloop.run(coro)

