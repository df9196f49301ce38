"""Walks every (from, to) status pair for every role through the API."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.issues.models import Issue, Status
from tracker.issues.workflow import TRANSITIONS, allowed_transitions
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]

# The table as the product promises it (docs/adr/0003-issue-workflow.md), written out by hand
# so a change to workflow.py has to be a deliberate change here too.
EXPECTED_STAFF_MOVES = {
    ("OPEN", "TRIAGED"),
    ("TRIAGED", "IN_PROGRESS"),
    ("IN_PROGRESS", "DONE"),
    ("TRIAGED", "OPEN"),
    ("IN_PROGRESS", "TRIAGED"),
    ("DONE", "IN_PROGRESS"),
    ("DONE", "OPEN"),
}


def expected(role: Role, src: Status, dst: Status) -> bool:
    return role != Role.REPORTER and (src.value, dst.value) in EXPECTED_STAFF_MOVES


def test_the_table_matches_the_documented_workflow() -> None:
    for role, src, dst in itertools.product(Role, Status, Status):
        assert (dst in TRANSITIONS[role][src]) is expected(role, src, dst), (role, src, dst)


@pytest.mark.parametrize("role", list(Role))
async def test_every_status_pair_through_the_api(
    role: Role,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    actor = await make_user(role)
    # The actor reports the issues themselves, so a REPORTER sees them and is refused for
    # their role, not for visibility.
    for src, dst in itertools.product(Status, Status):
        issue = await make_issue(actor, status=src, resolved_at=None)
        url = f"/api/issues/{issue.id}"
        before = (await client.get(url, headers=auth(actor))).json()
        assert before["allowed_transitions"] == allowed_transitions(role, src)

        resp = await client.patch(
            url, json={"status": dst.value}, headers={**auth(actor), "If-Match": '"1"'}
        )
        after = (await client.get(url, headers=auth(actor))).json()
        events = (
            (await db.execute(select(IssueEvent.data).where(IssueEvent.issue_id == issue.id)))
            .scalars()
            .all()
        )

        if role == Role.REPORTER:
            assert resp.status_code == 403, (src, dst)
            assert resp.json()["code"] == "staff_only_field"
            assert after == before
            assert events == []
        elif src == dst:
            # Not a move: nothing is written.
            assert resp.status_code == 200, (src, dst)
            assert after == before
            assert events == []
        elif expected(role, src, dst):
            assert resp.status_code == 200, (src, dst, resp.text)
            assert after["status"] == dst.value
            assert after["version"] == 2
            assert (after["resolved_at"] is not None) is (dst == Status.DONE)
            assert events == [{"changes": {"status": [src.value, dst.value]}}]
        else:
            assert resp.status_code == 409, (src, dst)
            problem = resp.json()
            assert problem["code"] == "invalid_transition"
            assert problem["allowed"] == [s.value for s in allowed_transitions(role, src)]
            assert after == before
            assert events == []


async def test_leaving_done_clears_resolved_at(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(maintainer, status=Status.IN_PROGRESS)
    url = f"/api/issues/{issue.id}"
    done = await client.patch(
        url, json={"status": "DONE"}, headers={**auth(maintainer), "If-Match": '"1"'}
    )
    assert done.json()["resolved_at"] is not None
    reopened = await client.patch(
        url, json={"status": "OPEN"}, headers={**auth(maintainer), "If-Match": '"2"'}
    )
    assert reopened.json()["status"] == "OPEN"
    assert reopened.json()["resolved_at"] is None
    stored = (await db.execute(select(Issue.resolved_at).where(Issue.id == issue.id))).scalar()
    assert stored is None
