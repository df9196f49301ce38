"""POST /api/issues/bulk: each issue changed as its own PATCH would change it, one at a time."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.issues.models import Status
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def _file(
    client: httpx.AsyncClient, auth: Auth, user: User, title: str, **fields: object
) -> dict:
    made = await client.post("/api/issues", json={"title": title, **fields}, headers=auth(user))
    assert made.status_code == 201, made.text
    return made.json()


async def test_each_issue_moves_through_the_workflow_and_refusals_are_listed(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)
    fresh = await make_issue(rae, title="Fresh")
    done = await make_issue(rae, title="Finished", status=Status.DONE)
    triaged = await make_issue(rae, title="Already triaged", status=Status.TRIAGED)

    answer = await client.post(
        "/api/issues/bulk",
        json={
            "issue_ids": [fresh.id, done.id, triaged.id, 999999],
            "changes": {"status": "TRIAGED", "assignee_id": mia.id},
        },
        headers=auth(mia),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(a["id"], a["changed"]) for a in body["applied"]] == [
        (fresh.id, True),
        (triaged.id, True),
    ]
    refused = {r["id"]: r for r in body["refused"]}
    assert refused[done.id]["status"] == 409
    assert refused[done.id]["code"] == "invalid_transition"
    assert "DONE cannot move to TRIAGED" in refused[done.id]["detail"]
    assert refused[999999]["status"] == 404

    # The refused issue is untouched, assignee included: atomic per issue.
    untouched = (await client.get(f"/api/issues/{done.id}", headers=auth(mia))).json()
    assert untouched["status"] == "DONE" and untouched["assignee"] is None
    moved = (await client.get(f"/api/issues/{fresh.id}", headers=auth(mia))).json()
    assert moved["status"] == "TRIAGED" and moved["assignee"]["id"] == mia.id


async def test_tags_are_added_and_removed_and_each_change_is_one_event(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, db: AsyncSession
) -> None:
    mia = await make_user(Role.MAINTAINER)
    first = await _file(client, auth, mia, "Export fails", tags=["export", "safari"])
    second = await _file(client, auth, mia, "Import fails", tags=["import"])
    third = await _file(client, auth, mia, "Tagged already", tags=["ui"])

    answer = await client.post(
        "/api/issues/bulk",
        json={
            "issue_ids": [first["id"], second["id"], third["id"]],
            "changes": {"add_tags": ["UI", "regression"], "remove_tags": ["safari"]},
        },
        headers=auth(mia),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["refused"] == []
    tags = {}
    for issue in (first, second, third):
        tags[issue["id"]] = (
            await client.get(f"/api/issues/{issue['id']}", headers=auth(mia))
        ).json()["tags"]
    assert sorted(tags[first["id"]]) == ["export", "regression", "ui"]
    assert sorted(tags[second["id"]]) == ["import", "regression", "ui"]
    assert sorted(tags[third["id"]]) == ["regression", "ui"]

    events = (
        await db.execute(
            select(IssueEvent.issue_id, IssueEvent.data).where(IssueEvent.kind == "issue.updated")
        )
    ).all()
    assert sorted(e.issue_id for e in events) == sorted([first["id"], second["id"], third["id"]])
    assert all(set(e.data["changes"]) == {"tags"} for e in events)


async def test_a_reporter_is_held_to_the_same_rules_as_a_patch(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    rae = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    own = await make_issue(rae, title="Mine")
    theirs = await make_issue(other, title="Theirs")

    severity = await client.post(
        "/api/issues/bulk",
        json={"issue_ids": [own.id, theirs.id], "changes": {"severity": "HIGH"}},
        headers=auth(rae),
    )
    body = severity.json()
    assert [a["id"] for a in body["applied"]] == [own.id]
    # Someone else's issue is refused exactly as a missing one: nothing says it exists.
    assert [(r["id"], r["status"]) for r in body["refused"]] == [(theirs.id, 404)]

    status = await client.post(
        "/api/issues/bulk",
        json={"issue_ids": [own.id], "changes": {"status": "TRIAGED"}},
        headers=auth(rae),
    )
    assert status.json()["refused"][0]["code"] == "staff_only_field"


async def test_an_unchanged_issue_is_applied_without_an_event_and_malformed_requests_are_422(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    mia = await make_user(Role.MAINTAINER)
    issue = await make_issue(mia, title="High already", severity="HIGH")
    same = await client.post(
        "/api/issues/bulk",
        json={"issue_ids": [issue.id, issue.id], "changes": {"severity": "HIGH"}},
        headers=auth(mia),
    )
    assert same.json()["applied"] == [{"id": issue.id, "version": issue.version, "changed": False}]
    assert (
        await db.execute(select(IssueEvent).where(IssueEvent.kind == "issue.updated"))
    ).first() is None

    for body, field in (
        ({"issue_ids": [], "changes": {}}, "issue_ids"),
        ({"issue_ids": list(range(1, 502)), "changes": {}}, "issue_ids"),
        ({"issue_ids": [1], "changes": {"title": "no"}}, "changes.title"),
        ({"issue_ids": [1], "changes": {"add_tags": ["no/slash"]}}, "changes.add_tags.0"),
    ):
        refused = await client.post("/api/issues/bulk", json=body, headers=auth(mia))
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()

    too_many = await _file(client, auth, mia, "Full of tags", tags=[f"t{n}" for n in range(10)])
    full = await client.post(
        "/api/issues/bulk",
        json={"issue_ids": [too_many["id"]], "changes": {"add_tags": ["one-more"]}},
        headers=auth(mia),
    )
    assert full.json()["refused"][0]["status"] == 422
    assert full.json()["refused"][0]["code"] == "too_many_tags"
    assert "at most 10 tags; this one would have 11" in full.json()["refused"][0]["detail"]
