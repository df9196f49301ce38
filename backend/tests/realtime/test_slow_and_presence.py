"""A client that stops reading is dropped without delaying others; who is viewing an issue."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from typing import Any

from websockets.exceptions import ConnectionClosed

from tracker.roles import Role

BIG = base64.b64encode(os.urandom(45_000)).decode()  # incompressible


async def test_a_client_that_stops_reading_is_dropped_while_others_stay_on_time(
    live: Any, open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    # max_queue=1: the stuck client's library stops reading from the socket, as a frozen tab would.
    stuck = await open_socket(staff, max_queue=1, compression=None)
    await stuck.subscribe("issues")
    fast = await open_socket(staff)
    await fast.subscribe("issues")
    before = len(live.hub.connections)

    latencies: list[float] = []
    for _ in range(200):
        committed = time.monotonic()
        await emit(issue.id, staff.id, data={"padding": BIG})
        await fast.event(within=1.0)
        latencies.append(time.monotonic() - committed)
        if len(live.hub.connections) < before:
            break
    assert len(live.hub.connections) == before - 1, "the stuck client was not dropped"
    assert max(latencies) < 1.0
    # The fast client keeps getting events after the drop.
    await emit(issue.id, staff.id)
    assert (await fast.event(within=1.0))["data"] == {}

    # The stuck client, reading again, finds its socket closed: 1013 "try again later".
    code = None
    deadline = time.monotonic() + 15
    while code is None and time.monotonic() < deadline:
        try:
            await stuck.recv(within=deadline - time.monotonic())
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else 1006
    assert code in (1013, 1006)


async def test_viewers_of_an_issue_see_each_other_join_and_leave(
    open_socket: Any, make_user: Any, make_issue: Any
) -> None:
    reporter = await make_user(Role.REPORTER, full_name="Rae Reporter")
    staff = await make_user(Role.MAINTAINER, full_name="Mia Maintainer")
    issue = await make_issue(reporter)
    channel = f"issue:{issue.id}"

    rae = await open_socket(reporter)
    await rae.subscribe(channel)
    alone = await rae.next("event", kind="presence")
    assert alone["data"]["viewers"] == [{"id": reporter.id, "full_name": "Rae Reporter"}]
    assert alone["channel"] == channel and alone["id"] is None

    mia = await open_socket(staff)
    await mia.subscribe(channel)
    both = [
        {"id": staff.id, "full_name": "Mia Maintainer"},
        {"id": reporter.id, "full_name": "Rae Reporter"},
    ]
    assert (await rae.next("event", kind="presence"))["data"]["viewers"] == both
    assert (await mia.next("event", kind="presence"))["data"]["viewers"] == both

    # A second tab of the same person changes nothing for the others.
    mia2 = await open_socket(staff)
    await mia2.subscribe(channel)
    assert (await mia2.next("event", kind="presence"))["data"]["viewers"] == both

    await mia.ws.close()
    await mia2.send(type="unsubscribe", channel=channel)
    left = await rae.next("event", kind="presence")
    assert left["data"]["viewers"] == [{"id": reporter.id, "full_name": "Rae Reporter"}]


async def test_presence_is_only_for_those_who_may_see_the_issue(
    open_socket: Any, make_user: Any, make_issue: Any
) -> None:
    owner, stranger = await make_user(Role.REPORTER), await make_user(Role.REPORTER)
    issue = await make_issue(owner)
    client = await open_socket(stranger)
    assert (await client.subscribe(f"issue:{issue.id}"))["code"] == "issue_not_found"
    watcher = await open_socket(owner)
    await watcher.subscribe(f"issue:{issue.id}")
    viewers = (await watcher.next("event", kind="presence"))["data"]["viewers"]
    assert [v["id"] for v in viewers] == [owner.id]
    await asyncio.sleep(0)
