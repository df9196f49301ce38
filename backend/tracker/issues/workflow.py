"""The status workflow: one table says which role may move an issue from which status to which.

Work moves forward one step at a time: OPEN -> TRIAGED -> IN_PROGRESS -> DONE. Staff (MAINTAINER,
ADMIN) may also step back one status when something was moved too early, and reopen a DONE
issue straight to OPEN when it comes back (it then needs triage again). A REPORTER never changes
status. docs/adr/0003-issue-workflow.md records why.
"""

from __future__ import annotations

from collections.abc import Mapping

from tracker.issues.models import Status
from tracker.roles import Role

FORWARD: Mapping[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.TRIAGED}),
    Status.TRIAGED: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.DONE}),
    Status.DONE: frozenset(),
}
BACK: Mapping[Status, frozenset[Status]] = {
    Status.OPEN: frozenset(),
    Status.TRIAGED: frozenset({Status.OPEN}),
    Status.IN_PROGRESS: frozenset({Status.TRIAGED}),
    Status.DONE: frozenset({Status.IN_PROGRESS, Status.OPEN}),
}

_STAFF_MOVES = {s: FORWARD[s] | BACK[s] for s in Status}
TRANSITIONS: Mapping[Role, Mapping[Status, frozenset[Status]]] = {
    Role.ADMIN: _STAFF_MOVES,
    Role.MAINTAINER: _STAFF_MOVES,
    Role.REPORTER: {s: frozenset() for s in Status},
}

_ORDER = list(Status)


def allowed_transitions(role: Role, current: Status) -> list[Status]:
    """The statuses `role` may move an issue in `current` to, in workflow order."""
    return sorted(TRANSITIONS[role][current], key=_ORDER.index)


def can_transition(role: Role, current: Status, target: Status) -> bool:
    return target in TRANSITIONS[role][current]
