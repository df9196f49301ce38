"""CPU-heavy steps of a request, run in worker threads a few at a time instead of on the loop.

One event loop serves every request and socket of an API process: a step that computes for tens
or hundreds of milliseconds (an argon2 password check, a long Markdown text) would stall all of
them, so eight concurrent previews once made `/healthz` take five seconds. Each kind of step gets
its own small pool of turns, so a burst of one kind never queues another kind's requests. argon2
releases the GIL and runs truly in parallel; pure-Python work still shares the interpreter, but
the loop gets its turn every few milliseconds instead of waiting for the whole step.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")
Args = TypeVarTuple("Args")


class CpuBound:
    """A kind of CPU-heavy step: at most `concurrency` of them at once per event loop."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        # A limiter belongs to one event loop; tests and tools may run several.
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def _limiter(self) -> CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = CapacityLimiter(self.concurrency)
        return limiter

    async def run(self, fn: Callable[[*Args], T], *args: *Args) -> T:
        return await to_thread.run_sync(fn, *args, limiter=self._limiter())


PASSWORD_HASHING = CpuBound(2)
MARKDOWN_RENDERING = CpuBound(2)
