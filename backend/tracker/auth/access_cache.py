"""The access check's answers, remembered while this process hears about every change to them.

Every authenticated request asks PostgreSQL who the caller is and whether their sign-in session
has ended (`repository.access_check`): a round trip per request whose answer changes only when
an administrator changes a user, or someone signs out. PostgreSQL announces each such change on
`ACCESS_CHANNEL` (migration 0003's triggers, at commit), and this process's realtime listener
passes them here; the answers are used only while that listener is connected, so a change can
never go unheard. Changes this process makes itself are forgotten at flush as well, before the
response that made them is sent. docs/adr/0013-remembered-access-checks.md has the reasoning.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.auth.models import User

ACCESS_CHANNEL = "tracker_access"

Key = tuple[int, uuid.UUID | None]


class AccessCache:
    """Answers by (user id, sign-in session id), for at most `ttl` seconds each."""

    def __init__(self, *, ttl: float = 30.0, max_entries: int = 4096) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[Key, tuple[float, Mapping[str, Any]]] = {}
        self._live = False
        # Bumped by every change heard: an answer read before a change is not remembered after it.
        self.generation = 0
        _ALL.add(self)

    @property
    def live(self) -> bool:
        return self._live

    def go_live(self) -> None:
        """The listener is connected: from now on every change is heard."""
        self.forget_all()
        self._live = True

    def pause(self) -> None:
        """The listener lost its connection: changes may go unheard, so remember nothing."""
        self._live = False
        self.forget_all()

    def get(self, key: Key) -> Mapping[str, Any] | None:
        if not self._live:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Key, values: Mapping[str, Any], generation: int) -> None:
        """Remember an answer read while `generation` was current, unless a change came since."""
        if not self._live or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + self.ttl, values)

    def forget_user(self, user_id: int) -> None:
        self.generation += 1
        for key in [k for k in self._entries if k[0] == user_id]:
            del self._entries[key]

    def forget_session(self, session_id: uuid.UUID) -> None:
        self.generation += 1
        for key in [k for k in self._entries if k[1] == session_id]:
            del self._entries[key]

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()

    def heard(self, payload: str) -> None:
        """One ACCESS_CHANNEL notification: a user's id, or `*` for everyone."""
        if payload.isascii() and payload.isdigit():
            self.forget_user(int(payload))
        else:
            self.forget_all()


_ALL: weakref.WeakSet[AccessCache] = weakref.WeakSet()


def forget_user_everywhere(user_id: int) -> None:
    """A change made by this process, forgotten before its transaction even commits."""
    for cache in list(_ALL):
        cache.forget_user(user_id)


def forget_all_everywhere() -> None:
    for cache in list(_ALL):
        cache.forget_all()


def forget_session_everywhere(session_id: uuid.UUID) -> None:
    for cache in list(_ALL):
        cache.forget_session(session_id)


@event.listens_for(Session, "before_flush")
def _forget_flushed_users(session: Session, _context: Any, _instances: Any) -> None:
    """Users changed or deleted through the ORM, forgotten as the change is written."""
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, User) and instance.id is not None:
            forget_user_everywhere(instance.id)
