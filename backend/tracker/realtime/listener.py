"""This process's ear on PostgreSQL: one dedicated connection LISTENing for changes and presence.

Every committed `record_event` NOTIFYs `tracker_events` with the event id; the listener fetches
the rows (one query for a burst) and hands them to the hub in commit order, which is id order
(see service.py). If the connection drops, it reconnects with backoff and replays every event
after the last one it dispatched, so no subscriber misses anything.

Presence travels on `tracker_presence`: each process announces its own viewers on change and
every few seconds, and says hello when it (re)connects so the others announce theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from tracker.activity.service import NOTIFY_CHANNEL
from tracker.auth.access_cache import ACCESS_CHANNEL, AccessCache
from tracker.imports.service import NOTIFY_CHANNEL as IMPORTS_CHANNEL
from tracker.notifications.service import NOTIFY_CHANNEL as NOTIFICATIONS_CHANNEL
from tracker.observability.logging import get_logger
from tracker.observability.metrics import REALTIME_LISTENER_RECONNECTS
from tracker.realtime import repository
from tracker.realtime.hub import Hub

log = get_logger("tracker.realtime")

PRESENCE_CHANNEL = "tracker_presence"
FETCH_CHUNK = 500
CATCH_UP_CHUNK = 1000
PAYLOAD_BUDGET = 7000  # NOTIFY payloads are limited to 8000 bytes
MAX_ANNOUNCED_VIEWERS = 50


class ListenerLost(Exception):
    pass


class Listener:
    def __init__(self, hub: Hub, database_url: str, access: AccessCache | None = None) -> None:
        self.hub = hub
        # Remembered access checks are used only while this connection hears every change.
        self.access = access or AccessCache()
        # Its own engine without a pool: this connection is never lent to a request.
        self._engine = create_async_engine(
            database_url,
            poolclass=NullPool,
            connect_args={
                "server_settings": {"application_name": "tracker-listen", "timezone": "UTC"}
            },
        )
        self.last_id: int | None = None
        self.connected = asyncio.Event()
        self._pending: list[tuple[str, str]] = []
        self._wake = asyncio.Event()
        self._lost = False
        self._stopping = False
        self._hello = False
        self._announce: set[int] = set()
        self._replayed: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        hub.announce = self.request_announce

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, wait: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run_forever())
        with contextlib.suppress(TimeoutError):
            # Serve even when the database is not up yet; the listener keeps retrying.
            await asyncio.wait_for(self.connected.wait(), wait)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 3)
            except (TimeoutError, Exception):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
        await self._engine.dispose()

    def request_announce(self, issue_ids: Any) -> None:
        self._announce.update(issue_ids)
        self._wake.set()

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        if channel == ACCESS_CHANNEL:
            # HTTP requests stop trusting what was remembered at once; open sockets are
            # re-checked in `_process`, in commit order with the events.
            self.access.heard(payload)
        self._pending.append((channel, payload))
        self._wake.set()

    def _on_terminate(self, _conn: object) -> None:
        self.access.pause()
        self._lost = True
        self._wake.set()

    # -- the connection ----------------------------------------------------------------------

    async def _run_forever(self) -> None:
        delay = 0.1
        while not self._stopping:
            try:
                await self._listen()
                return
            except Exception as exc:
                log.warning("realtime_listener_lost", error=repr(exc))
            finally:
                self.access.pause()
            if self.connected.is_set():
                delay = 0.1  # it was up: the first retry comes quickly
            self.connected.clear()
            if self._stopping:
                return
            REALTIME_LISTENER_RECONNECTS.inc()
            await asyncio.sleep(delay + random.uniform(0, delay))  # noqa: S311 - jitter
            delay = min(delay * 2, 5.0)

    async def _listen(self) -> None:
        self._lost = False
        async with self._engine.connect() as base:
            conn = await base.execution_options(isolation_level="AUTOCOMMIT")
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            raw.add_termination_listener(self._on_terminate)
            await raw.add_listener(NOTIFY_CHANNEL, self._on_notify)
            await raw.add_listener(PRESENCE_CHANNEL, self._on_notify)
            await raw.add_listener(ACCESS_CHANNEL, self._on_notify)
            await raw.add_listener(NOTIFICATIONS_CHANNEL, self._on_notify)
            await raw.add_listener(IMPORTS_CHANNEL, self._on_notify)
            if self.last_id is None:
                self.last_id = await repository.latest_event_id(conn)
                self.hub.last_event_id = self.last_id
            else:
                # Access changes made while this process was not listening went unheard:
                # re-check every socket before replaying what it missed.
                await self.hub.refresh_access()
                await self._catch_up(conn)
            self.access.go_live()
            self.connected.set()
            self._hello = True
            await self._loop(conn)

    async def _loop(self, conn: AsyncConnection) -> None:
        beat = self.hub.timing.presence_heartbeat
        next_beat = time.monotonic() + beat
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_beat - time.monotonic()))
            self._wake.clear()
            if self._lost:
                raise ListenerLost("the LISTEN connection was closed")
            if self._stopping:
                await self._say_goodbye(conn)
                return
            if self._pending:
                await self._process(conn)
            if self._hello or self._announce:
                await self._send_presence(conn)
            if time.monotonic() >= next_beat:
                await self._heartbeat(conn)
                next_beat = time.monotonic() + beat

    async def _catch_up(self, conn: AsyncConnection) -> None:
        """After a reconnect: dispatch what committed while this process was not listening."""
        self._replayed.clear()
        while True:
            assert self.last_id is not None
            rows = await repository.events_after(conn, self.last_id, CATCH_UP_CHUNK)
            for row in rows:
                self.hub.dispatch(row)
                self.last_id = row.id
                self._replayed.add(row.id)
            if len(rows) < CATCH_UP_CHUNK:
                return

    # -- events ------------------------------------------------------------------------------

    async def _process(self, conn: AsyncConnection) -> None:
        batch, self._pending = self._pending, []
        # Events and access changes in commit order; an access change is a set of user ids
        # (None: everyone).
        notes: list[dict[str, Any] | set[int] | None] = []
        inboxes: set[int] = set()
        for channel, payload in batch:
            if channel == ACCESS_CHANNEL:
                _add_access_change(notes, payload)
                continue
            if channel == NOTIFICATIONS_CHANNEL:
                _add_inbox(inboxes, payload)
                continue
            try:
                note = json.loads(payload)
            except ValueError:
                log.warning("realtime_bad_payload", channel=channel)
                continue
            if channel == PRESENCE_CHANNEL:
                self._on_presence(note)
            elif channel == IMPORTS_CHANNEL:
                if isinstance(note, dict):
                    self.hub.dispatch_import(note)
            elif isinstance(note, dict):
                notes.append(note)
        watched = self.hub.notified(inboxes)
        if watched:
            self.hub.dispatch_unread(await repository.unread_counts(conn, watched))
        ids = [n["id"] for n in notes if isinstance(n, dict) and isinstance(n.get("id"), int)]
        if not self.hub.channels:
            # Nobody here is subscribed: nothing to fetch or send. A later subscription resumes
            # from the newest id (ids commit in order), and replays from the table if it asks.
            self._replayed.clear()
            if ids:
                self.last_id = self.hub.last_event_id = max(ids)
            for note in notes:
                if not isinstance(note, dict):
                    await self.hub.refresh_access(note)
            return
        rows: dict[int, repository.EventRow] = {}
        for start in range(0, len(ids), FETCH_CHUNK):
            for row in await repository.events_by_ids(conn, ids[start : start + FETCH_CHUNK]):
                rows[row.id] = row
        for note in notes:
            if not isinstance(note, dict):
                # Before any event committed after the change reaches a socket it concerns.
                await self.hub.refresh_access(note)
                continue
            event_id = note.get("id")
            if event_id is None:
                if note.get("kind") == "stats.updated":
                    self.hub.dispatch_stats()
                continue
            if self._replayed:
                # Notifications that raced the catch-up query were dispatched by it already.
                if event_id in self._replayed:
                    self._replayed.discard(event_id)
                    continue
                if event_id > max(self._replayed):
                    self._replayed.clear()
            found = rows.get(event_id)
            if found is not None:
                self.hub.dispatch(found)
                self.last_id = found.id

    # -- presence ----------------------------------------------------------------------------

    def _on_presence(self, note: Any) -> None:
        if not isinstance(note, dict) or note.get("p") == self.hub.process_id:
            return
        process = str(note.get("p"))
        if note.get("bye"):
            changed = self.hub.presence.forget_process(process)
        else:
            issues = {
                int(issue): {int(uid): str(name) for uid, name in viewers}
                for issue, viewers in (note.get("v") or {}).items()
            }
            changed = self.hub.presence.apply_remote(process, issues)
        self.hub.presence_changed(changed)
        if note.get("hello"):
            self._announce.update(self.hub.presence.local_issues())

    async def _send_presence(self, conn: AsyncConnection, *, everything: bool = False) -> None:
        book = self.hub.presence
        issues = set(self._announce)
        if everything or self._hello:
            issues.update(book.local_issues())
        hello, self._hello = self._hello, False
        self._announce.clear()
        chunks: list[dict[str, list[tuple[int, str]]]] = [{}]
        size = 0
        for issue_id in sorted(issues):
            viewers = list(book.local(issue_id).items())[:MAX_ANNOUNCED_VIEWERS]
            entry_size = len(json.dumps(viewers)) + 16
            if size + entry_size > PAYLOAD_BUDGET and chunks[-1]:
                chunks.append({})
                size = 0
            chunks[-1][str(issue_id)] = viewers
            size += entry_size
        for index, chunk in enumerate(chunks):
            if not chunk and not hello:
                continue
            note = {"p": self.hub.process_id, "v": chunk, "hello": hello and index == 0}
            await conn.execute(select(func.pg_notify(PRESENCE_CHANNEL, json.dumps(note))))

    async def _heartbeat(self, conn: AsyncConnection) -> None:
        if self.hub.presence.local_issues():
            await self._send_presence(conn, everything=True)
        else:
            await conn.execute(select(1))  # notices a dead connection while idle
        self.hub.presence_changed(self.hub.presence.expire())

    async def _say_goodbye(self, conn: AsyncConnection) -> None:
        note = {"p": self.hub.process_id, "bye": True}
        with contextlib.suppress(Exception):
            await conn.execute(select(func.pg_notify(PRESENCE_CHANNEL, json.dumps(note))))


def _add_inbox(inboxes: set[int], payload: str) -> None:
    try:
        note = json.loads(payload)
    except ValueError:
        log.warning("realtime_bad_payload", channel=NOTIFICATIONS_CHANNEL)
        return
    if isinstance(note, dict) and isinstance(note.get("user_id"), int):
        inboxes.add(note["user_id"])


def _add_access_change(notes: list[dict[str, Any] | set[int] | None], payload: str) -> None:
    """Append an access change (a user id, or `*`), merged with one just before it."""
    user_id = int(payload) if payload.isascii() and payload.isdecimal() else None
    last = notes[-1] if notes else {}
    if isinstance(last, set) and user_id is not None:
        last.add(user_id)
    elif last is not None:
        notes.append({user_id} if user_id is not None else None)


def install_realtime(app: FastAPI) -> None:
    """Create this process's hub; start and stop its listener with the application."""
    hub = Hub(app.state.settings)
    app.state.realtime = hub

    async def start(app: FastAPI) -> None:
        hub.start(app.state.sessionmaker)
        settings = app.state.settings
        url = settings.session_database_url or settings.database_url  # LISTEN needs a session
        listener = Listener(hub, url, app.state.access_cache)
        app.state.realtime_listener = listener
        await listener.start()

    async def stop(app: FastAPI) -> None:
        listener: Listener | None = getattr(app.state, "realtime_listener", None)
        await hub.stop()
        if listener is not None:
            await listener.stop()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
