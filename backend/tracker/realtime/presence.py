"""Who is viewing which issue, merged across API processes.

Each process knows its own sockets exactly and hears the other processes' viewer sets through
NOTIFY on `tracker_presence`. A remote set is kept only while its process keeps announcing it
(heartbeats), so viewers of a process that died disappear after `ttl` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

Viewers = dict[int, str]  # user id -> full name


@dataclass
class PresenceBook:
    process_id: str
    ttl: float = 30.0
    # issue -> user -> (name, open sockets of that user on that issue in this process)
    _local: dict[int, dict[int, tuple[str, int]]] = field(default_factory=dict)
    # process -> issue -> (viewers, expires at, monotonic)
    _remote: dict[str, dict[int, tuple[Viewers, float]]] = field(default_factory=dict)

    def local(self, issue_id: int) -> Viewers:
        return {uid: name for uid, (name, _) in self._local.get(issue_id, {}).items()}

    def local_issues(self) -> list[int]:
        return list(self._local)

    def merged(self, issue_id: int) -> Viewers:
        now = time.monotonic()
        viewers = self.local(issue_id)
        for issues in self._remote.values():
            entry = issues.get(issue_id)
            if entry and entry[1] > now:
                viewers.update(entry[0])
        return viewers

    def join(self, issue_id: int, user_id: int, name: str) -> bool:
        """Count one more socket; True when the issue's merged viewers changed."""
        before = self.merged(issue_id)
        users = self._local.setdefault(issue_id, {})
        _, count = users.get(user_id, (name, 0))
        users[user_id] = (name, count + 1)
        return self.merged(issue_id) != before

    def leave(self, issue_id: int, user_id: int) -> bool:
        users = self._local.get(issue_id)
        if not users or user_id not in users:
            return False
        before = self.merged(issue_id)
        name, count = users[user_id]
        if count > 1:
            users[user_id] = (name, count - 1)
        else:
            del users[user_id]
            if not users:
                del self._local[issue_id]
        return self.merged(issue_id) != before

    def apply_remote(self, process_id: str, issues: dict[int, Viewers]) -> list[int]:
        """Take another process's announcement; the issues whose merged viewers changed."""
        if process_id == self.process_id:
            return []
        changed = []
        expires = time.monotonic() + self.ttl
        known = self._remote.setdefault(process_id, {})
        for issue_id, viewers in issues.items():
            before = self.merged(issue_id)
            if viewers:
                known[issue_id] = (viewers, expires)
            else:
                known.pop(issue_id, None)
            if self.merged(issue_id) != before:
                changed.append(issue_id)
        return changed

    def forget_process(self, process_id: str) -> list[int]:
        issues = list(self._remote.get(process_id, {}))
        return self.apply_remote(process_id, {issue_id: {} for issue_id in issues})

    def expire(self) -> list[int]:
        """Drop remote sets that were not re-announced in time; the issues that changed."""
        now = time.monotonic()
        changed: list[int] = []
        for process_id, issues in list(self._remote.items()):
            for issue_id, (_, expires) in list(issues.items()):
                if expires <= now:
                    del issues[issue_id]
                    changed.append(issue_id)
            if not issues:
                del self._remote[process_id]
        return changed
