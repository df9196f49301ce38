"""A client that reconnects with the last id it saw gets exactly what it missed, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.roles import Role


async def test_resume_replays_exactly_the_missed_events_in_order(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue, other = await make_issue(staff), await make_issue(staff)
    first = await open_socket(staff)
    await first.subscribe(f"issue:{issue.id}")
    seen = await emit(issue.id, staff.id, kind="issue.created")
    assert (await first.event())["id"] == seen
    await first.ws.close()

    missed = []
    for n in range(5):
        missed.append(await emit(issue.id, staff.id, data={"n": n}))
        await emit(other.id, staff.id)  # another issue: not on this channel

    again = await open_socket(staff)
    await again.subscribe(f"issue:{issue.id}", since=seen)
    replayed = [await again.event() for _ in missed]
    assert [m["id"] for m in replayed] == missed
    assert [m["data"] for m in replayed] == [{"n": n} for n in range(5)]
    live_id = await emit(issue.id, staff.id)
    assert (await again.event())["id"] == live_id
    assert await again.quiet(0.3) == []


async def test_resume_during_a_stream_of_writes_has_no_gap_and_no_duplicate(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.ADMIN)
    issue = await make_issue(staff)
    before = [await emit(issue.id, staff.id) for _ in range(20)]

    async def writer() -> list[int]:
        return [await emit(issue.id, staff.id) for _ in range(30)]

    writing = asyncio.create_task(writer())
    await asyncio.sleep(0.02)
    client = await open_socket(staff)
    await client.subscribe("issues", since=before[4])
    during = await writing
    expected = before[5:] + during
    received = [(await client.event())["id"] for _ in expected]
    assert received == expected
    assert await client.quiet(0.3) == []


async def test_too_much_missed_asks_the_client_to_resync(
    live: Any, open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.ADMIN)
    issue = await make_issue(staff)
    ids = [await emit(issue.id, staff.id) for _ in range(6)]
    live.hub.replay_limit = 3
    try:
        client = await open_socket(staff)
        await client.subscribe("issues", since=ids[0])
        assert await client.next("resync", channel="issues")
        assert await client.quiet(0.3) == []
        fresh = await emit(issue.id, staff.id)
        assert (await client.event())["id"] == fresh
    finally:
        live.hub.replay_limit = 1000


async def test_events_committed_while_the_listener_reconnects_are_not_lost(
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    client = await open_socket(staff)
    await client.subscribe("issues")
    # (Tables are truncated between tests, restarting ids: let the listener see this test's.)
    first = await emit(issue.id, staff.id)
    assert (await client.event())["id"] == first
    async with sessionmaker() as session:
        killed = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'tracker-listen' AND datname = current_database()"
            )
        )
    assert killed and killed >= 1
    during = [await emit(issue.id, staff.id) for _ in range(5)]
    received = [(await client.event(within=5))["id"] for _ in during]
    assert received == during
    after = await emit(issue.id, staff.id)
    assert (await client.event())["id"] == after
    assert await client.quiet(0.3) == []
