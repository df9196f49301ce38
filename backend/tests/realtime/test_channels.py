"""Events reach subscribers on time, only committed ones, only for those allowed to see them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.activity.service import notify_stats_changed, record_event
from tracker.issues.models import Status
from tracker.roles import Role

CHANGE = {"changes": {"status": ["OPEN", "TRIAGED"]}}


async def test_a_committed_change_reaches_a_subscriber_within_a_second(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    maintainer = await make_user(Role.MAINTAINER, full_name="Mia Maintainer")
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    client = await open_socket(maintainer)
    ack = await client.subscribe("issues")
    assert (ack["type"], ack["channel"]) == ("subscribed", "issues")

    started = time.monotonic()
    event_id = await emit(issue.id, reporter.id, actor=maintainer, data=CHANGE)
    message = await client.event(within=1.0)
    assert time.monotonic() - started < 1.0
    assert message["id"] == event_id
    assert ack["last_id"] < event_id
    assert message["channel"] == "issues"
    assert message["kind"] == "issue.updated"
    assert message["issue_id"] == issue.id
    assert message["data"] == CHANGE
    assert message["actor"] == {"id": maintainer.id, "full_name": "Mia Maintainer"}
    assert message["created_at"].endswith("Z")


async def test_a_rolled_back_change_emits_nothing(
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(maintainer)
    client = await open_socket(maintainer)
    await client.subscribe("issues")
    async with sessionmaker() as session:
        await record_event(
            session, issue_id=issue.id, reporter_id=maintainer.id, actor_id=None, kind="x.y"
        )
        await session.rollback()
    committed = await emit(issue.id, maintainer.id, kind="issue.created")
    assert (await client.event())["id"] == committed
    assert await client.quiet(0.3) == []


async def test_issue_channel_gets_only_that_issue(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    one, two = await make_issue(maintainer), await make_issue(maintainer)
    client = await open_socket(maintainer)
    await client.subscribe(f"issue:{one.id}")
    await emit(two.id, maintainer.id)
    wanted = await emit(one.id, maintainer.id, kind="comment.created")
    message = await client.event()
    assert (message["id"], message["channel"]) == (wanted, f"issue:{one.id}")


async def test_a_reporter_never_receives_another_reporters_issue_events(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    alice, bob = await make_user(Role.REPORTER), await make_user(Role.REPORTER)
    alices, bobs = await make_issue(alice), await make_issue(bob)
    client = await open_socket(alice)
    await client.subscribe("issues")
    await client.subscribe("stats")

    refused = await client.subscribe(f"issue:{bobs.id}")
    assert refused["type"] == "error"
    assert refused["code"] == "issue_not_found"
    assert refused["message"] == f"Issue {bobs.id} not found"
    missing = await client.subscribe("issue:999999")
    assert missing["code"] == "issue_not_found"  # same answer: existence is not revealed

    await emit(bobs.id, bob.id)
    own = await emit(alices.id, alice.id)
    received = [await client.event(), await client.event()]
    assert {(m["channel"], m["id"]) for m in received} == {("issues", own), ("stats", own)}
    assert await client.quiet(0.3) == []

    # The history replay is scoped the same way.
    await client.send(type="unsubscribe", channel="issues")
    await client.next("unsubscribed", channel="issues")
    await client.subscribe("issues", since=0)
    assert (await client.event())["id"] == own
    assert await client.quiet(0.3) == []


async def test_stats_channel_hears_recomputed_numbers(
    open_socket: Any, make_user: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reporter = await make_user(Role.REPORTER)
    client = await open_socket(reporter)
    await client.subscribe("stats")
    async with sessionmaker() as session:
        await notify_stats_changed(session)
        await session.commit()
    message = await client.next("event", kind="stats.updated")
    assert (message["channel"], message["id"], message["data"]) == ("stats", None, {})


async def test_a_demoted_or_deactivated_user_stops_receiving(
    live: Any,
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff = await make_user(Role.MAINTAINER)
    reporter = await make_user(Role.REPORTER)
    theirs = await make_issue(reporter)
    client = await open_socket(staff)
    await client.subscribe("issues")
    await client.subscribe(f"issue:{theirs.id}")
    await emit(theirs.id, reporter.id)
    assert (await client.event())["issue_id"] == theirs.id

    async with sessionmaker() as session:
        user = await session.get(type(staff), staff.id)
        assert user is not None
        user.role = Role.REPORTER
        await session.commit()
    # The issue channel they may no longer see is taken away within the refresh interval.
    lost = await client.next("error", within=3)
    assert (lost["code"], lost["channel"]) == ("issue_not_found", f"issue:{theirs.id}")
    await emit(theirs.id, reporter.id, data={"changes": {"status": [Status.OPEN, "TRIAGED"]}})
    assert await client.quiet(0.5) == []

    async with sessionmaker() as session:
        user = await session.get(type(staff), staff.id)
        assert user is not None
        user.is_active = False
        await session.commit()
    closed = await _closed(client, within=3)
    assert closed == 1008


async def _closed(client: Any, within: float) -> int:
    deadline = time.monotonic() + within
    from websockets.exceptions import ConnectionClosed

    while time.monotonic() < deadline:
        try:
            await client.recv(deadline - time.monotonic())
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            return exc.rcvd.code
    raise AssertionError("the socket stayed open")


async def test_protocol_answers_pings_and_explains_mistakes(
    open_socket: Any, make_user: Any
) -> None:
    client = await open_socket(await make_user(Role.MAINTAINER))
    await client.send(type="ping")
    assert await client.next("pong")
    await client.ws.send("not json")
    assert (await client.next("error"))["code"] == "invalid_message"
    bad = await client.subscribe("everything")
    assert (bad["code"], bad["channel"]) == ("invalid_channel", "everything")
    assert (await client.subscribe("issue:99999999999"))["code"] == "invalid_channel"
    await client.ws.send("x" * 5000)
    assert (await client.next("error"))["code"] == "message_too_large"
    # The server pings every heartbeat interval; answering keeps the socket open.
    assert await client.next("ping", within=2)
    await client.send(type="pong")


async def test_idle_sockets_are_closed(live: Any, open_socket: Any, make_user: Any) -> None:
    client = await open_socket(await make_user(Role.MAINTAINER))
    live.hub.timing.idle_timeout = 1.0
    try:
        assert await _closed(client, within=4) == 4000
    finally:
        live.hub.timing.idle_timeout = 60.0


async def test_many_concurrent_writers_arrive_in_id_order(
    open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issues = [await make_issue(staff) for _ in range(4)]
    client = await open_socket(staff)
    await client.subscribe("issues")
    ids = await asyncio.gather(*(emit(issues[n % 4].id, staff.id) for n in range(40)))
    received = [(await client.event())["id"] for _ in ids]
    assert received == sorted(ids)
