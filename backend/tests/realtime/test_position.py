"""GET /api/realtime/position: where a page subscribes from, so no change falls between the data
it loaded and its live updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tracker.auth.models import User
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def test_position_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/realtime/position")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    bad = await client.get("/api/realtime/position", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


async def test_position_is_the_newest_event_id_for_every_role(
    client: httpx.AsyncClient, make_user: Any, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    staff = await make_user(Role.MAINTAINER)
    empty = await client.get("/api/realtime/position", headers=auth(reporter))
    assert empty.status_code == 200
    assert empty.json() == {"position": 0}

    created = await client.post(
        "/api/issues", json={"title": "Checkout hangs"}, headers=auth(reporter)
    )
    assert created.status_code == 201
    issue_id = created.json()["id"]
    await client.post(
        f"/api/issues/{issue_id}/comments", json={"body": "Seen it too"}, headers=auth(staff)
    )
    events = (await client.get(f"/api/issues/{issue_id}/events", headers=auth(staff))).json()
    newest = max(e["id"] for e in events["items"])

    for user in (reporter, staff):
        resp = await client.get("/api/realtime/position", headers=auth(user))
        assert resp.json() == {"position": newest}


async def test_a_change_between_reading_the_position_and_subscribing_is_delivered(
    client: httpx.AsyncClient,
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    auth: Auth,
) -> None:
    """What a page does: position, then its data, then subscribe with `since`; a change
    committed after the position was read reaches it even though it subscribed later."""
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    await emit(issue.id, staff.id, kind="issue.created")
    position = (await client.get("/api/realtime/position", headers=auth(staff))).json()["position"]

    between = await emit(issue.id, staff.id, data={"changes": {"status": ["OPEN", "TRIAGED"]}})

    socket = await open_socket(staff)
    subscribed = await socket.subscribe(f"issue:{issue.id}", since=position)
    assert subscribed["type"] == "subscribed"
    replayed = await socket.event()
    assert replayed["id"] == between
    assert replayed["data"] == {"changes": {"status": ["OPEN", "TRIAGED"]}}
    assert await socket.quiet(0.3) == []
