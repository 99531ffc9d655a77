"""Client-side rate limits: call starts spaced so requests/min and tokens/min hold in any window."""

from __future__ import annotations

import asyncio


class Pacer:
    """Spaces call starts by the larger of the request gap and the token gap of each call."""

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.req_gap = 60.0 / rpm if rpm else 0.0
        self.tok_gap = 60.0 / tpm if tpm else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self.req_gap or self.tok_gap)

    async def wait(self, tokens: int) -> float:
        """Sleep until this call's slot; returns the slot's start on the loop clock."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, self._next)
            self._next = start + max(self.req_gap, tokens * self.tok_gap)
            if start > now:
                await asyncio.sleep(start - now)
            return start
