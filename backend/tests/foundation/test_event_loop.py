"""CPU-heavy steps of a request run off the event loop, so the process keeps answering.

A watcher on the application's own event loop records how late its 5 ms sleeps wake up while a
burst of eight expensive requests is served. On the loop, the requests would hold it for their
computations back to back (eight times one); off the loop, it is held at most for the switches
of the interpreter lock between the loop and two rendering threads — bounded here at half the
burst, far from both (a password check releases the lock, so two of its durations suffice).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.auth.flows import authorize_body
from tests.conftest import PASSWORD, UserFactory
from tracker.auth import pkce
from tracker.auth.passwords import verify_password
from tracker.config import Settings
from tracker.markdown import render_markdown

BURST = 8


async def _worst_stall(burst: Callable[[], Awaitable[Any]]) -> float:
    """The longest the event loop was held while `burst` ran, in seconds."""
    stalls: list[float] = []

    async def watch() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - started - 0.005)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.02)
    try:
        await burst()
    finally:
        watcher.cancel()
    return max(stalls)


def _timed(fn: Callable[..., Any], *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


async def test_long_markdown_previews_do_not_stall_the_event_loop(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Any
) -> None:
    user = await make_user()
    text = ("*a **b _c " * 5000)[:50_000]  # emphasis that never closes: the parser's worst
    one = _timed(render_markdown, text)

    async def burst() -> None:
        answers = await asyncio.gather(
            *(
                client.post("/api/markdown/preview", json={"text": text}, headers=auth(user))
                for _ in range(BURST)
            )
        )
        assert [a.status_code for a in answers] == [200] * BURST
        assert answers[0].json()["html"] == render_markdown(text)

    assert await _worst_stall(burst) < BURST / 2 * one


async def test_password_checks_do_not_stall_the_event_loop(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    stored = user.password_hash
    one = _timed(verify_password, stored, PASSWORD)
    body = authorize_body(settings, user.email, PASSWORD, pkce.s256(pkce.new_verifier()))

    async def burst() -> None:
        answers = await asyncio.gather(
            *(client.post("/api/oauth/authorize", json=body) for _ in range(BURST))
        )
        assert [a.status_code for a in answers] == [200] * BURST

    assert await _worst_stall(burst) < 2 * one
