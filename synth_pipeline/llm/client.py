"""The LLM client: concurrent chat calls that are never lost, never paid twice, never hang.

Both the teacher (generation) and the judge (pre-labelling) call their model through an
`LLMClient`. A failed call never raises: after the last retry its error lands in the
`ChatResult`, and the caller puts the row in its rejected table. Every answered call is written
to the `ResponseCache` the moment it arrives, so a re-run pays only for calls it never got back.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from synth_pipeline.config import ModelConfig
from synth_pipeline.credentials import SECRETS_FILE_ENV, redact, secret
from synth_pipeline.errors import ConfigError
from synth_pipeline.llm.cache import ResponseCache, cache_key
from synth_pipeline.llm.pacing import Pacer
from synth_pipeline.llm.pricing import cost_map, price
from synth_pipeline.llm.transports import CallError, select_transport


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
class ClientStats:
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


class LLMClient:
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
            api_key = secret(model.api_key_env)
            if not api_key:
                raise ConfigError(f"api_key_env of model {model.model!r}: environment variable "
                                  f"{model.api_key_env} is not set (nor in ${SECRETS_FILE_ENV})")
        self._api_key = api_key  # only to redact it from provider errors that echo it
        self.transport_name, self.wire_model, self._transport = select_transport(
            model, self.model_name, self.api_base, api_key)
        self.price_model = self.wire_model if not model.is_local else ""
        if self.price_model:
            cost_map()  # load the price table now, not inside the first wave of answers
        self.stats = ClientStats()
        self._cool_until = 0.0
        self._users = 0
        self._loop_state: tuple[Any, asyncio.Semaphore, Pacer] | None = None

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
                                Pacer(self.config.rpm, self.config.tpm))
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
        last: CallError | None = None
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
                except CallError as exc:
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
                                 "created_at": time.time(),
                                 # the prompt, so an erasure can find the entries a row's text reached
                                 "messages": messages}
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
        return ChatResult(req.key, None, redact(f"{last} (after {attempt + 1} attempt(s))", self._api_key),
                          model=self.model_id, params=params)

    def _backoff(self, attempt: int) -> float:
        base = min(self.config.retry_max_s, self.config.retry_base_s * (2 ** attempt))
        return base * random.uniform(0.5, 1.0)


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with our deps, but stay portable
        return asyncio.run(coro)
    return uvloop.run(coro)

