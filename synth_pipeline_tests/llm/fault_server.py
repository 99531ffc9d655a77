"""A real OpenAI-compatible chat server on 127.0.0.1 that plays scripted faults and counts calls.

Faults are scripted per prompt (the last user message): each arrival of that prompt takes the
next action from its list, then answers normally. `paid` counts completions actually served,
so "no call paid twice" is `max(paid.values()) <= 1`.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from aiohttp import web

OK = "ok"


class FaultServer:
    def __init__(self, latency: float = 0.0, script: dict[str, list[Any]] | None = None,
                 responder: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.latency = latency
        self.responder = responder  # request body -> content, for scripted model behaviour
        self.script: dict[str, list[Any]] = defaultdict(list, {k: list(v) for k, v in (script or {}).items()})
        self.arrivals: list[tuple[float, str]] = []  # (monotonic time, prompt)
        self.paid: Counter = Counter()
        self.inflight = 0
        self.max_inflight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.arrivals)

    def reset(self) -> None:
        self.arrivals.clear()
        self.paid.clear()
        self.max_inflight = 0

    @staticmethod
    def answer_for(prompt: str) -> str:
        return "answer-" + hashlib.sha1(prompt.encode()).hexdigest()[:10]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prompt = body["messages"][-1]["content"]
        self.arrivals.append((time.monotonic(), prompt))
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            action = self.script[prompt].pop(0) if self.script.get(prompt) else OK
            kind, arg = (action, None) if isinstance(action, str) else action
            if self.latency:
                await asyncio.sleep(self.latency)
            if kind == "429":
                return web.json_response({"error": {"message": "slow down"}}, status=429,
                                         headers={"Retry-After": str(arg)})
            if kind in ("500", "503"):
                return web.json_response({"error": {"message": "boom"}}, status=int(kind))
            if kind == "400":
                return web.json_response({"error": {"message": "bad request"}}, status=400)
            if kind == "timeout":
                await asyncio.sleep(arg)
            if kind == "malformed":
                return web.Response(text='{"choices": [{"message": {"content": ', content_type="application/json")
            if kind == "truncated":  # promise more bytes than sent, then drop the connection
                resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "500"})
                await resp.prepare(request)
                await resp.write(b'{"id": "x", "choices": [')
                request.transport.close()
                return resp
            if kind == "content":
                content = arg
            elif self.responder is not None:
                content = self.responder(body)
            else:
                content = self.answer_for(prompt)
            self.paid[prompt] += 1
            return web.json_response({
                "id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            })
        finally:
            self.inflight -= 1

    def start(self) -> FaultServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

