"""Who may open a socket: the session cookie from our own origin, or a first auth message."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.sessions import access_token
from tracker.roles import Role

ORIGIN = "http://127.0.0.1:3000"  # the test settings' web origin


async def _close_code(client: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.recv(within=3)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_the_session_cookie_from_our_origin_signs_in(
    live: Any, open_socket: Any, make_user: Any, settings: Any
) -> None:
    user = await make_user(Role.REPORTER, full_name="Rae Reporter")
    cookie = f"tracker_access={access_token(settings, user.id)}"
    client = await open_socket(additional_headers={"Cookie": cookie}, origin=ORIGIN)
    ready = await client.next("ready")
    assert ready["user"] == {"id": user.id, "full_name": "Rae Reporter", "role": "REPORTER"}


@pytest.mark.parametrize("origin", ["https://evil.example.com", None])
async def test_the_session_cookie_from_another_origin_is_refused(
    open_socket: Any, make_user: Any, settings: Any, origin: str | None
) -> None:
    user = await make_user(Role.ADMIN)
    cookie = f"tracker_access={access_token(settings, user.id)}"
    client = await open_socket(additional_headers={"Cookie": cookie}, origin=origin)
    assert await _close_code(client) == 1008


async def test_a_socket_that_never_authenticates_is_closed_with_1008(open_socket: Any) -> None:
    client = await open_socket()
    assert await _close_code(client) == 1008


@pytest.mark.parametrize(
    "first",
    [
        '{"type": "subscribe", "channel": "issues"}',
        '{"type": "auth", "token": "not-a-jwt"}',
        "hello",
    ],
)
async def test_a_wrong_first_message_is_refused(open_socket: Any, first: str) -> None:
    client = await open_socket()
    await client.ws.send(first)
    assert await _close_code(client) == 1008


async def test_an_inactive_account_is_refused(
    open_socket: Any, make_user: Any, settings: Any
) -> None:
    user = await make_user(Role.MAINTAINER, is_active=False)
    client = await open_socket()
    await client.send(type="auth", token=access_token(settings, user.id))
    assert await _close_code(client) == 1008


async def test_no_token_is_accepted_in_the_url(
    live: Any, open_socket: Any, make_user: Any, settings: Any
) -> None:
    user = await make_user(Role.ADMIN)
    client = await open_socket(url=f"{live.url}?token={access_token(settings, user.id)}")
    assert await _close_code(client) == 1008
