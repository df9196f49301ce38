"""Two API processes on one database: a change reaches subscribers of both; presence merges."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.processes import api_processes
from tracker.config import Settings
from tracker.roles import Role


@pytest.fixture(scope="module")
def two_apis(settings: Settings) -> Iterator[list[str]]:
    with api_processes(settings, 2) as apis:
        yield [f"ws://127.0.0.1:{port}/api/ws" for port, _ in apis]


async def test_a_change_reaches_subscribers_of_every_process(
    two_apis: list[str], open_socket: Any, make_user: Any, make_issue: Any, emit: Any
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    on_a = await open_socket(staff, url=two_apis[0])
    on_b = await open_socket(staff, url=two_apis[1])
    await on_a.subscribe("issues")
    await on_b.subscribe(f"issue:{issue.id}")
    started = time.monotonic()
    event_id = await emit(issue.id, staff.id, kind="issue.updated")
    assert (await on_a.event(within=1.0))["id"] == event_id
    assert (await on_b.event(within=1.0))["id"] == event_id
    assert time.monotonic() - started < 1.0


async def test_viewers_on_two_processes_see_each_other(
    two_apis: list[str], open_socket: Any, make_user: Any, make_issue: Any
) -> None:
    reporter = await make_user(Role.REPORTER, full_name="Rae Reporter")
    staff = await make_user(Role.MAINTAINER, full_name="Mia Maintainer")
    issue = await make_issue(reporter)
    channel = f"issue:{issue.id}"
    rae = await open_socket(reporter, url=two_apis[0])
    await rae.subscribe(channel)
    await rae.next("event", kind="presence")
    mia = await open_socket(staff, url=two_apis[1])
    await mia.subscribe(channel)

    both = [
        {"id": staff.id, "full_name": "Mia Maintainer"},
        {"id": reporter.id, "full_name": "Rae Reporter"},
    ]
    assert (await rae.next("event", kind="presence", within=2))["data"]["viewers"] == both
    deadline = time.monotonic() + 2
    viewers = (await mia.next("event", kind="presence"))["data"]["viewers"]
    while viewers != both:  # mia's process may not have heard rae's yet
        viewers = (await mia.next("event", kind="presence", within=deadline - time.monotonic()))[
            "data"
        ]["viewers"]
    await mia.ws.close()
    gone = await rae.next("event", kind="presence", within=2)
    assert gone["data"]["viewers"] == [{"id": reporter.id, "full_name": "Rae Reporter"}]
