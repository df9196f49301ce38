"""Ending a sign-in session or an account's access reaches open sockets in commit order.

These run against a server whose periodic access re-check is a minute apart, so only the
announcement of the change itself can stop the next event: a change followed at once by an
issue update must never let that update through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.auth.flows import bearer, refresh, sign_in
from tests.realtime.conftest import Client, LiveServer, serving
from tests.sessions import access_token
from tracker.app import create_app
from tracker.config import Settings
from tracker.realtime.hub import Hub
from tracker.roles import Role


@pytest.fixture(scope="module")
def unpolled(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    hub: Hub = app.state.realtime
    hub.timing.access_refresh = 60.0
    with serving(app) as server:
        yield server


async def _signed_in_socket(open_socket: Any, url: str, token: str) -> Client:
    client: Client = await open_socket(url=url)
    await client.send(type="auth", token=token)
    await client.next("ready")
    return client


async def _events_until_closed(client: Client) -> tuple[list[dict[str, Any]], int]:
    """History events received before the server closed the socket, and its close code."""
    events: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            message = await client.recv(within=5)
            if message["type"] == "event" and message["id"] is not None:
                events.append(message)
    assert closed.value.rcvd is not None, "the server did not close the socket"
    return events, closed.value.rcvd.code


@pytest.mark.parametrize("ending", ["sign-out", "refresh-reuse", "deactivation"])
async def test_ending_the_session_closes_its_sockets_before_the_next_event(
    unpolled: LiveServer,
    client: httpx.AsyncClient,
    settings: Settings,
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    auth: Any,
    ending: str,
) -> None:
    admin = await make_user(Role.ADMIN)
    mia = await make_user(Role.MAINTAINER)
    issue = await make_issue(mia)
    tokens = await sign_in(client, settings, mia.email)
    socket = await _signed_in_socket(open_socket, unpolled.url, tokens["access_token"])
    await socket.subscribe(f"issue:{issue.id}")
    before = await emit(issue.id, mia.id, kind="issue.updated")
    assert (await socket.event())["id"] == before

    if ending == "sign-out":
        resp = await client.post("/api/oauth/revoke", data={"token": tokens["refresh_token"]})
        assert resp.status_code == 200
    elif ending == "refresh-reuse":
        assert (await refresh(client, tokens["refresh_token"])).status_code == 200
        assert (await refresh(client, tokens["refresh_token"])).status_code == 400
    else:
        resp = await client.patch(
            f"/api/users/{mia.id}", json={"is_active": False}, headers=auth(admin)
        )
        assert resp.status_code == 200
    await emit(issue.id, mia.id, kind="issue.updated")

    events, code = await _events_until_closed(socket)
    assert events == []
    assert code == 1008
    # HTTP and a new socket agree that the session is over.
    me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    again: Client = await open_socket(url=unpolled.url)
    await again.send(type="auth", token=tokens["access_token"])
    assert await _events_until_closed(again) == ([], 1008)


async def test_a_socket_of_another_session_of_the_same_person_stays_open(
    unpolled: LiveServer,
    client: httpx.AsyncClient,
    settings: Settings,
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
) -> None:
    mia = await make_user(Role.MAINTAINER)
    issue = await make_issue(mia)
    laptop = await sign_in(client, settings, mia.email)
    phone = await _signed_in_socket(open_socket, unpolled.url, access_token(settings, mia.id))
    await phone.subscribe(f"issue:{issue.id}")
    assert (
        await client.post("/api/oauth/revoke", data={"token": laptop["refresh_token"]})
    ).is_success
    after = await emit(issue.id, mia.id, kind="issue.updated")
    assert (await phone.event())["id"] == after


async def test_a_demotion_stops_other_peoples_events_before_the_next_one(
    unpolled: LiveServer,
    client: httpx.AsyncClient,
    settings: Settings,
    open_socket: Any,
    make_user: Any,
    make_issue: Any,
    emit: Any,
    auth: Any,
) -> None:
    admin = await make_user(Role.ADMIN)
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)
    theirs = await make_issue(rae)
    socket = await _signed_in_socket(open_socket, unpolled.url, access_token(settings, mia.id))
    await socket.subscribe("issues")
    resp = await client.patch(
        f"/api/users/{mia.id}", json={"role": "REPORTER"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    await emit(theirs.id, rae.id, kind="issue.updated")
    own = await make_issue(mia)
    mine = await emit(own.id, mia.id, kind="issue.updated")
    # The first event after the demotion that reaches the socket is the one about their own issue.
    assert (await socket.event())["id"] == mine
