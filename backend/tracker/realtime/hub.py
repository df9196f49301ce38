"""This process's sockets: who is subscribed to what, fan-out, presence and access refresh.

The listener hands every committed event to `dispatch`; the hub puts it, serialised once per
channel, onto the queue of each subscribed connection allowed to see it. Nothing here awaits a
socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth import sessions as auth_sessions
from tracker.config import Settings
from tracker.observability.logging import get_logger
from tracker.observability.metrics import WS_CONNECTIONS, WS_DROPPED
from tracker.realtime import repository
from tracker.realtime.connection import (
    CLOSE_POLICY,
    CLOSE_SERVICE_RESTART,
    EVERYONE,
    Connection,
    Outgoing,
    Subscription,
)
from tracker.realtime.presence import PresenceBook
from tracker.realtime.repository import EventRow
from tracker.realtime.schemas import error_message, event_message, transient_message

log = get_logger("tracker.realtime")

ISSUES, STATS = "issues", "stats"
# Each person's own: their sockets subscribed to it are kept under "notifications:<user id>".
NOTIFICATIONS = "notifications"


@dataclass
class Timing:
    """Intervals, in seconds; tests shorten them."""

    heartbeat: float = 20.0  # server ping to every socket
    idle_timeout: float = 60.0  # no message from the client for this long: closed
    auth_timeout: float = 5.0  # to send {"type":"auth"} when no session cookie came along
    access_refresh: float = 3.0  # re-read every viewer's role and is_active
    presence_heartbeat: float = 10.0  # re-announce this process's viewers
    presence_ttl: float = 30.0  # forget another process's viewers not re-announced
    replay_put_timeout: float = 10.0


@dataclass(eq=False)
class Hub:
    settings: Settings
    timing: Timing = field(default_factory=Timing)
    queue_size: int = 512
    replay_limit: int = 1000
    process_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    connections: set[Connection] = field(default_factory=set)
    channels: dict[str, set[Subscription]] = field(default_factory=dict)
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    # Set by the listener: announce these issues' local viewers to the other processes.
    announce: Callable[[Iterable[int]], None] = lambda issues: None
    # The newest event dispatched here: a new subscription's resume cursor (ids arrive in order).
    last_event_id: int = 0
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.presence = PresenceBook(self.process_id, ttl=self.timing.presence_ttl)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._tasks.append(asyncio.create_task(self._refresh_access_forever()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for conn in list(self.connections):
            conn.close(CLOSE_SERVICE_RESTART, "The server is restarting")

    def register(self, conn: Connection) -> None:
        self.connections.add(conn)
        WS_CONNECTIONS.inc()

    def unregister(self, conn: Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        WS_CONNECTIONS.dec()
        for sub in list(conn.subscriptions.values()):
            self.remove(sub)

    # -- subscriptions -----------------------------------------------------------------------

    @staticmethod
    def _key(sub: Subscription) -> str:
        if sub.channel == NOTIFICATIONS:
            return f"{NOTIFICATIONS}:{sub.connection.viewer.id}"
        return sub.channel

    def add(self, sub: Subscription) -> None:
        sub.connection.subscriptions[sub.channel] = sub
        self.channels.setdefault(self._key(sub), set()).add(sub)
        if sub.issue_id is not None:
            viewer = sub.connection.viewer
            if self.presence.join(sub.issue_id, viewer.id, viewer.full_name):
                self.presence_changed([sub.issue_id], announce=True)
            else:
                # Someone joining who already viewed elsewhere still needs the current list.
                sub.deliver(None, self._presence_item(sub.issue_id, sub.issue_owner))

    def remove(self, sub: Subscription) -> None:
        conn = sub.connection
        if conn.subscriptions.get(sub.channel) is sub:
            del conn.subscriptions[sub.channel]
        key = self._key(sub)
        subs = self.channels.get(key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.channels[key]
        if sub.issue_id is not None and self.presence.leave(sub.issue_id, conn.viewer.id):
            self.presence_changed([sub.issue_id], announce=True)

    # -- fan-out -----------------------------------------------------------------------------

    def dispatch(self, event: EventRow) -> None:
        """Queue one committed event for every subscriber allowed to see it."""
        owner = event.reporter_id
        self.last_event_id = event.id
        for channel in (ISSUES, f"issue:{event.issue_id}", STATS):
            subs = self.channels.get(channel)
            if not subs:
                continue
            item: Outgoing | None = None
            for sub in list(subs):
                if not sub.connection.viewer.may_see(owner):
                    continue
                if item is None:
                    item = Outgoing(event_message(channel, event), owner)
                sub.deliver(event.id, item)

    def notified(self, user_ids: Iterable[int]) -> list[int]:
        """Of these people, those with a socket here subscribed to their notifications."""
        return [uid for uid in user_ids if f"{NOTIFICATIONS}:{uid}" in self.channels]

    def dispatch_unread(self, unread: dict[int, int]) -> None:
        """Tell each person's sockets how many notifications they have unread now."""
        for user_id, count in unread.items():
            subs = self.channels.get(f"{NOTIFICATIONS}:{user_id}")
            if not subs:
                continue
            message = transient_message(NOTIFICATIONS, "notifications.changed", {"unread": count})
            item = Outgoing(message, user_id)
            for sub in list(subs):
                sub.deliver(None, item)

    def dispatch_import(self, progress: dict[str, Any]) -> None:
        """An import's progress, to the sockets following it (its starter, ADMINs)."""
        channel = f"import:{progress.get('id')}"
        subs = self.channels.get(channel)
        if subs:
            item = Outgoing(transient_message(channel, "import.progress", progress), EVERYONE)
            for sub in list(subs):
                sub.deliver(None, item)

    def dispatch_stats(self) -> None:
        subs = self.channels.get(STATS)
        if subs:
            item = Outgoing(transient_message(STATS, "stats.updated", {}), EVERYONE)
            for sub in list(subs):
                sub.deliver(None, item)

    def _presence_item(self, issue_id: int, owner: int | None) -> Outgoing:
        viewers = sorted(self.presence.merged(issue_id).items(), key=lambda v: (v[1], v[0]))
        data = {"viewers": [{"id": uid, "full_name": name} for uid, name in viewers]}
        return Outgoing(
            transient_message(f"issue:{issue_id}", "presence", data, issue_id=issue_id), owner
        )

    def presence_changed(self, issue_ids: Iterable[int], *, announce: bool = False) -> None:
        issue_ids = list(issue_ids)
        for issue_id in issue_ids:
            subs = self.channels.get(f"issue:{issue_id}")
            if not subs:
                continue
            owner = next(iter(subs)).issue_owner
            item = self._presence_item(issue_id, owner)
            for sub in list(subs):
                sub.deliver(None, item)
        if announce and issue_ids:
            self.announce(issue_ids)

    # -- access refresh ----------------------------------------------------------------------

    async def _refresh_access_forever(self) -> None:
        while True:
            await asyncio.sleep(self.timing.access_refresh)
            try:
                await self.refresh_access()
            except Exception:
                log.exception("websocket_access_refresh_failed")

    async def refresh_access(self, user_ids: Collection[int] | None = None) -> None:
        """Re-read connected viewers' role, status and sign-in session (all of them, or those of
        `user_ids`): two queries, whatever the number of sockets.

        The listener calls this for the users a change was announced for, before it dispatches
        any event committed after that change; a timer calls it for everyone as a safety net.
        A deactivated (or deleted) user's sockets, and every socket of an ended sign-in session,
        are closed; a demoted user loses the issue channels they may no longer see and stops
        receiving other people's events at once.
        """
        if self.sessionmaker is None:
            return
        conns = [c for c in self.connections if user_ids is None or c.viewer.id in user_ids]
        if not conns:
            return
        async with self.sessionmaker() as session:
            rows = await repository.viewers(session, list({c.viewer.id for c in conns}))
            live = await auth_sessions.live_sessions(
                session, list({c.viewer.session_id for c in conns})
            )
        for conn in conns:
            row = rows.get(conn.viewer.id)
            if row is None or not row.is_active:
                conn.viewer.is_active = False
                WS_DROPPED.labels(reason="inactive").inc()
                conn.close(CLOSE_POLICY, "This account is not active")
                continue
            if conn.viewer.session_id not in live:
                conn.viewer.is_active = False
                WS_DROPPED.labels(reason="session_ended").inc()
                conn.close(CLOSE_POLICY, "This session has ended; sign in again")
                continue
            conn.viewer.role = row.role
            conn.viewer.full_name = row.full_name
            for sub in list(conn.subscriptions.values()):
                if sub.issue_id is not None and not conn.viewer.may_see(sub.issue_owner):
                    self.remove(sub)
                    conn.control(
                        error_message(
                            "issue_not_found",
                            f"Issue {sub.issue_id} not found",
                            channel=sub.channel,
                        )
                    )
