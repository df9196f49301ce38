"""The WebSocket is not in the OpenAPI document, so schemathesis cannot reach it: the same
hostile inputs, by hand. Each is answered with an error message and the socket keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import UserFactory
from tests.realtime.conftest import live, open_socket  # noqa: F401 (fixtures)
from tracker.roles import Role

DEEP = "[" * 1500 + "]" * 1500


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (DEEP, "invalid_message"),
        ('{"type": "subscribe", "channel": ' + DEEP + "}", "invalid_message"),
        ('{"type": "subscribe", "channel": "issues", "since": "²"}', "invalid_message"),
        ('{"type": "subscribe", "channel": "issue:²"}', "invalid_channel"),
        ('{"type": "subscribe", "channel": "issue:\\u0661"}', "invalid_channel"),
        ('{"type": "subscribe", "channel": "issue:9999999999"}', "invalid_channel"),
        ('{"type": "subscribe", "channel": "issue:1\\u0000"}', "invalid_channel"),
        ('{"type": "subscribe", "channel": "\\u202eseussi"}', "invalid_channel"),
        ('{"type": "\\u0000"}', "invalid_message"),
        ('{"type": "ping", "\\ud800": 1}', None),
    ],
)
async def test_odd_messages_are_answered_and_the_socket_keeps_serving(
    open_socket: Any,  # noqa: F811
    make_user: UserFactory,
    message: str,
    code: str | None,
) -> None:
    user = await make_user(Role.MAINTAINER)
    client = await open_socket(user)
    await client.ws.send(message)
    if code is not None:
        error = await client.next("error")
        assert error["code"] == code
    await client.send(type="ping")
    await client.next("pong")


@pytest.mark.parametrize("since", [2**31, 2**62, -1])
async def test_a_since_outside_the_event_ids_is_refused_and_the_socket_keeps_serving(
    open_socket: Any,  # noqa: F811
    make_user: UserFactory,
    since: int,
) -> None:
    user = await make_user(Role.MAINTAINER)
    client = await open_socket(user)
    answer = await client.subscribe("issues", since=since)
    assert (answer["type"], answer["code"]) == ("error", "invalid_message"), json.dumps(answer)
    await client.send(type="ping")
    await client.next("pong")
