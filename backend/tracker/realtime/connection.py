"""One browser tab's socket: its subscriptions, its bounded send queue and its sender task.

Fan-out never awaits a socket: it only `put_nowait`s onto the connection's queue. Each
connection has its own sender task, so a client that stops reading fills its own queue and is
dropped (1013) while every other client keeps getting events on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import WebSocket
from starlette.websockets import WebSocketState

from tracker.observability.logging import get_logger
from tracker.observability.metrics import WS_DROPPED, WS_EVENTS_SENT
from tracker.roles import Role, is_staff

if TYPE_CHECKING:
    from tracker.realtime.hub import Hub

log = get_logger("tracker.realtime")

CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 1013
# What uvicorn sends every open socket when the process shuts down gracefully (a deploy, a
# restart): clients reconnect, to this process once it is back or to another replica.
CLOSE_SERVICE_RESTART = 1012
CLOSE_IDLE = 4000
EVERYONE = -1  # `owner` of a message any signed-in viewer may receive (stats.updated)


@dataclass
class Viewer:
    """Who is on the other end; role and is_active are refreshed from the database."""

    id: int
    full_name: str
    role: Role
    # The sign-in session the socket authenticated with: ending it closes the socket.
    session_id: uuid.UUID
    is_active: bool = True

    @property
    def is_staff(self) -> bool:
        return is_staff(self)

    def may_see(self, owner: int | None) -> bool:
        """May this viewer receive something about an issue reported by `owner`?"""
        return self.is_active and (owner == EVERYONE or self.is_staff or owner == self.id)


@dataclass(frozen=True, slots=True)
class Outgoing:
    text: str
    owner: int | None  # the issue's reporter, or EVERYONE; re-checked just before sending
    event: bool = True


@dataclass(eq=False)
class Subscription:
    connection: Connection
    channel: str
    issue_id: int | None = None
    # For issue:<id>: the issue's reporter, to re-check access when the viewer's role changes.
    issue_owner: int | None = None
    # While a resume replays history, live events wait here; None once live.
    buffer: list[tuple[int | None, Outgoing]] | None = None

    def deliver(self, event_id: int | None, item: Outgoing) -> None:
        if self.buffer is not None:
            self.buffer.append((event_id, item))
        else:
            self.connection.offer(item)


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    viewer: Viewer
    hub: Hub
    queue_size: int = 512
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    last_received: float = field(default_factory=time.monotonic)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""

    def __post_init__(self) -> None:
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(self.queue_size)

    def offer(self, item: Outgoing) -> None:
        """Queue without waiting; a full queue means the client stopped reading: drop it."""
        if self.closed.is_set():
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            WS_DROPPED.labels(reason="slow").inc()
            log.info("websocket_dropped_slow", user_id=self.viewer.id)
            self.close(CLOSE_TOO_SLOW, "Too slow: messages were not read in time")

    async def put(self, item: Outgoing, wait: float) -> bool:
        """Queue, waiting for room (replays); False (and dropped) when the client is stuck."""
        try:
            await asyncio.wait_for(self.queue.put(item), wait)
        except TimeoutError:
            WS_DROPPED.labels(reason="slow").inc()
            self.close(CLOSE_TOO_SLOW, "Too slow: messages were not read in time")
            return False
        return True

    def control(self, text: str) -> None:
        self.offer(Outgoing(text, EVERYONE, event=False))

    def close(self, code: int, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_code, self.close_reason = code, reason
        self.closed.set()

    async def send_loop(self) -> None:
        while True:
            item = await self.queue.get()
            # Authorization again, just before sending: the viewer's role may have changed
            # since the message was queued (the hub refreshes it every few seconds).
            if not self.viewer.is_active:
                self.close(CLOSE_POLICY, "This account is not active")
                return
            if not self.viewer.may_see(item.owner):
                continue
            await self.websocket.send_text(item.text)
            if item.event:
                WS_EVENTS_SENT.inc()

    async def finish(self) -> None:
        """Send the close frame, without letting a stuck client hold this task."""
        if self.websocket.application_state is WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(self.close_code, self.close_reason[:120]), timeout=2
            )
