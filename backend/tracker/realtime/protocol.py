"""Serving one authenticated socket: read client messages, subscribe with resume, heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from tracker.auth.models import User
from tracker.errors import NotFound
from tracker.imports import service as imports
from tracker.issues import service as issues
from tracker.observability.logging import get_logger
from tracker.observability.metrics import WS_DROPPED
from tracker.realtime import repository
from tracker.realtime.connection import (
    CLOSE_IDLE,
    Connection,
    Outgoing,
    Subscription,
    Viewer,
)
from tracker.realtime.hub import Hub
from tracker.realtime.schemas import (
    CHANNEL_PATTERN,
    CLIENT_MESSAGE,
    MAX_ISSUE_ID,
    PingMessage,
    PongMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    control_message,
    error_message,
    event_message,
)

log = get_logger("tracker.realtime")

MAX_MESSAGE_CHARS = 4096
MAX_SUBSCRIPTIONS = 50


async def serve_socket(hub: Hub, websocket: WebSocket, viewer: Viewer) -> None:
    conn = Connection(websocket, viewer, hub, queue_size=hub.queue_size)
    hub.register(conn)
    conn.control(
        control_message(
            "ready",
            user={"id": viewer.id, "full_name": viewer.full_name, "role": viewer.role.value},
            heartbeat=hub.timing.heartbeat,
        )
    )
    tasks = [
        asyncio.create_task(conn.send_loop()),
        asyncio.create_task(_read_loop(hub, conn)),
        asyncio.create_task(_heartbeat_loop(hub, conn)),
        asyncio.create_task(conn.closed.wait()),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = None if task.cancelled() else task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                log.error("websocket_failed", error=repr(exc), user_id=viewer.id)
                conn.close(1011, "Internal error")
    finally:
        hub.unregister(conn)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await conn.finish()


async def _heartbeat_loop(hub: Hub, conn: Connection) -> None:
    while True:
        await asyncio.sleep(hub.timing.heartbeat)
        if time.monotonic() - conn.last_received > hub.timing.idle_timeout:
            WS_DROPPED.labels(reason="idle").inc()
            conn.close(CLOSE_IDLE, "Idle: no message from the client in time")
            return
        conn.control(control_message("ping"))


async def _read_loop(hub: Hub, conn: Connection) -> None:
    while True:
        text = await conn.websocket.receive_text()
        conn.last_received = time.monotonic()
        if len(text) > MAX_MESSAGE_CHARS:
            conn.control(error_message("message_too_large", "Messages are limited to 4 KiB"))
            continue
        try:
            message = CLIENT_MESSAGE.validate_json(text)
        except ValidationError:
            conn.control(
                error_message(
                    "invalid_message",
                    'Send {"type": "subscribe" | "unsubscribe" | "ping", ...} as JSON',
                )
            )
            continue
        if isinstance(message, SubscribeMessage):
            await subscribe(hub, conn, message)
        elif isinstance(message, UnsubscribeMessage):
            sub = conn.subscriptions.get(message.channel)
            if sub is not None:
                hub.remove(sub)
            conn.control(control_message("unsubscribed", channel=message.channel))
        elif isinstance(message, PingMessage):
            conn.control(control_message("pong"))
        elif not isinstance(message, PongMessage):
            conn.control(error_message("already_authenticated", "This socket is signed in"))


async def subscribe(hub: Hub, conn: Connection, message: SubscribeMessage) -> None:
    channel = message.channel
    match = CHANNEL_PATTERN.match(channel)
    if match is None or any(g and int(g) > MAX_ISSUE_ID for g in match.groups()[1:]):
        conn.control(
            error_message(
                "invalid_channel",
                'Channels are "issues", "stats", "notifications", "issue:<id>" and "import:<id>"',
                channel=channel,
            )
        )
        return
    old = conn.subscriptions.get(channel)
    if old is not None:
        hub.remove(old)
    elif len(conn.subscriptions) >= MAX_SUBSCRIPTIONS:
        conn.control(
            error_message(
                "too_many_subscriptions", "At most 50 channels per socket", channel=channel
            )
        )
        return
    assert hub.sessionmaker is not None
    viewer = conn.viewer
    if match.group(3) and not await _may_follow_import(hub, viewer, int(match.group(3))):
        conn.control(
            error_message("import_not_found", f"Import {match.group(3)} not found", channel=channel)
        )
        return
    # Only the channels of the history replay it; an inbox or an import's progress is news
    # from now on.
    since = None if channel == "notifications" or match.group(3) else message.since
    issue_id = int(match.group(2)) if match.group(2) else None
    issue_owner: int | None = None
    if issue_id is not None:
        async with hub.sessionmaker() as session:
            user = await session.get(User, viewer.id)
            try:
                if user is None or not user.is_active:
                    raise NotFound(f"Issue {issue_id} not found", code="issue_not_found")
                issue_owner = (await issues.get_visible_issue(session, user, issue_id)).reporter_id
            except NotFound as exc:
                conn.control(error_message(exc.code, exc.detail, channel=channel))
                return
    sub = Subscription(
        conn,
        channel,
        issue_id=issue_id,
        issue_owner=issue_owner,
        # Live events arriving during the replay wait, so nothing is lost or sent twice.
        buffer=[] if since is not None else None,
    )
    # Live first, then the history: an event committed meanwhile is in the buffer or the replay.
    # `last_id`: everything after it reaches this subscription (replayed or live), so a client
    # that has seen nothing yet resumes from here after a reconnect.
    conn.control(
        control_message("subscribed", channel=channel, last_id=max(hub.last_event_id, since or 0))
    )
    hub.add(sub)
    if since is not None:
        await _replay(hub, sub, since)


async def _may_follow_import(hub: Hub, viewer: Viewer, import_id: int) -> bool:
    assert hub.sessionmaker is not None
    async with hub.sessionmaker() as session:
        user = await session.get(User, viewer.id)
        if user is None or not user.is_active:
            return False
        return await imports.visible_import(session, user.id, user.role, import_id) is not None


async def _replay(hub: Hub, sub: Subscription, since: int) -> None:
    conn, viewer = sub.connection, sub.connection.viewer
    assert hub.sessionmaker is not None and sub.buffer is not None
    async with hub.sessionmaker() as session:
        events = await repository.replay(
            session,
            after_id=since,
            issue_id=sub.issue_id,
            reporter_id=None if viewer.is_staff else viewer.id,
            limit=hub.replay_limit + 1,
        )
    last = since
    if len(events) > hub.replay_limit:
        # Too much was missed to replay: the client reloads what it shows, then goes live.
        conn.control(control_message("resync", channel=sub.channel))
    else:
        for event in events:
            item = Outgoing(event_message(sub.channel, event), event.reporter_id)
            if not await conn.put(item, hub.timing.replay_put_timeout):
                return
            last = event.id
    buffered, sub.buffer = sub.buffer, None
    for event_id, item in buffered:
        if event_id is None or event_id > last:
            conn.offer(item)
