"""The WebSocket protocol: what a client may send, and the messages the server sends.

Client → server: auth (only as the first message), subscribe, unsubscribe, ping, pong.
Server → client: event, subscribed, unsubscribed, error, ping, pong, resync.
See docs/realtime.md for the whole protocol.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from tracker.activity.service import visible_data
from tracker.realtime.repository import EventRow

CHANNEL_PATTERN = re.compile(
    r"^(issues|stats|notifications|issue:([1-9][0-9]{0,9})|import:([1-9][0-9]{0,9}))$"
)
MAX_ISSUE_ID = 2**31 - 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AuthMessage(_Message):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class SubscribeMessage(_Message):
    type: Literal["subscribe"]
    channel: str = Field(max_length=40)
    # The last event id the client has seen on this channel: the server replays what came after.
    since: int | None = Field(default=None, ge=0, le=2**31 - 1)  # event ids are int4


class UnsubscribeMessage(_Message):
    type: Literal["unsubscribe"]
    channel: str = Field(max_length=40)


class PingMessage(_Message):
    type: Literal["ping"]


class PongMessage(_Message):
    type: Literal["pong"]


ClientMessage = Annotated[
    AuthMessage | SubscribeMessage | UnsubscribeMessage | PingMessage | PongMessage,
    Field(discriminator="type"),
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_message(channel: str, event: EventRow) -> str:
    actor = (
        {"id": event.actor_id, "full_name": event.actor_name or ""}
        if event.actor_id is not None
        else None
    )
    return dumps(
        {
            "type": "event",
            "id": event.id,
            "channel": channel,
            "kind": event.kind,
            "data": visible_data(event.kind, event.data, staff=False),
            "issue_id": event.issue_id,
            "actor": actor,
            "created_at": _iso(event.created_at),
        }
    )


def transient_message(
    channel: str, kind: str, data: dict[str, Any], *, issue_id: int | None = None
) -> str:
    """An event that is not in the history (id null): stats.updated, presence."""
    return dumps(
        {
            "type": "event",
            "id": None,
            "channel": channel,
            "kind": kind,
            "data": data,
            "issue_id": issue_id,
            "actor": None,
            "created_at": _iso(datetime.now(UTC)),
        }
    )


def error_message(code: str, message: str, *, channel: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if channel is not None:
        body["channel"] = channel
    return dumps(body)


def control_message(kind: str, **fields: Any) -> str:
    return dumps({"type": kind, **fields})


class StreamPosition(BaseModel):
    """Where the live feed stands: subscribe with `since` set to it after loading data."""

    position: int = Field(
        ge=0,
        description="The newest event id (0 when there is none yet); events after it are "
        "replayed to a subscription made with this as `since`",
    )
