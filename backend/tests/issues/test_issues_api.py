from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attachments.conftest import PDF, png_bytes
from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.config import Settings
from tracker.issues.models import Issue
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def events_of(db: AsyncSession, issue_id: int) -> list[IssueEvent]:
    rows = await db.execute(
        select(IssueEvent).where(IssueEvent.issue_ref == issue_id).order_by(IssueEvent.id)
    )
    return list(rows.scalars())


async def test_reporter_files_an_issue_with_tags_and_markdown(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, db: AsyncSession
) -> None:
    reporter = await make_user(Role.REPORTER, full_name="Rita Reporter")
    resp = await client.post(
        "/api/issues",
        json={
            "title": "  Checkout fails on Safari ",
            "description": "Steps:\n\n1. **Open** cart",
            "severity": "HIGH",
            "tags": ["Safari", "checkout", "safari "],
        },
        headers=auth(reporter),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["title"] == "Checkout fails on Safari"
    assert body["status"] == "OPEN"
    assert body["reporter"] == {"id": reporter.id, "full_name": "Rita Reporter"}
    assert body["assignee"] is None
    assert body["tags"] == ["checkout", "safari"]
    assert "<strong>Open</strong>" in body["description_html"]
    assert body["version"] == 1
    assert body["allowed_transitions"] == []
    assert body["permissions"]["edit"] is True
    assert body["permissions"]["change_status"] is False
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"/api/issues/{body['id']}"

    got = await client.get(f"/api/issues/{body['id']}", headers=auth(reporter))
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    detail = got.json()
    for key in ("title", "tags", "description", "description_html", "version", "reporter"):
        assert detail[key] == body[key]
    assert detail["comment_count"] == 0
    assert detail["attachment_count"] == 0

    [event] = await events_of(db, body["id"])
    assert event.kind == "issue.created"
    assert event.actor_id == reporter.id
    assert event.reporter_id == reporter.id


async def test_issues_with_known_and_new_tags_are_numbered_without_gaps(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, db: AsyncSession
) -> None:
    # With every tag known, an issue is filed in one statement; a new tag takes the longer way.
    # Either way: its tags, one `issue.created` event, and the next number.
    maintainer = await make_user(Role.MAINTAINER)
    filed = []
    for tags in (["export"], ["export"], ["export", "csv"], [], ["csv", "export"], ["pdf"]):
        resp = await client.post(
            "/api/issues",
            json={"title": "Export fails", "severity": "LOW", "tags": tags},
            headers=auth(maintainer),
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["tags"] == sorted(tags)
        filed.append(resp.json()["id"])

    assert filed == list(range(filed[0], filed[0] + 6))
    for issue_id, tags in zip(
        filed,
        (["export"], ["export"], ["csv", "export"], [], ["csv", "export"], ["pdf"]),
        strict=True,
    ):
        got = await client.get(f"/api/issues/{issue_id}", headers=auth(maintainer))
        assert got.json()["tags"] == tags
        [event] = await events_of(db, issue_id)
        assert (event.kind, event.actor_id, event.reporter_id) == (
            "issue.created",
            maintainer.id,
            maintainer.id,
        )
        assert event.data == {"title": "Export fails", "severity": "LOW", "tags": tags}
    assert len((await db.execute(select(Issue))).scalars().all()) == 6


async def test_new_issue_input_is_validated(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user(Role.REPORTER)
    bad_bodies: list[dict[str, Any]] = [
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "ok", "severity": "URGENT"},
        {"title": "ok", "tags": ["no/slashes"]},
        {"title": "ok", "tags": ["x" * 31]},
        {"title": "ok", "tags": [f"t{i}" for i in range(11)]},
        {"title": "ok", "status": "DONE"},
    ]
    for body in bad_bodies:
        resp = await client.post("/api/issues", json=body, headers=auth(user))
        assert resp.status_code == 422, body
        assert resp.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/issues", headers=auth(user))).json()["items"] == []


async def test_anonymous_callers_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/issues")).status_code == 401
    assert (await client.post("/api/issues", json={"title": "x"})).status_code == 401
    assert (await client.post("/api/markdown/preview", json={"text": "x"})).status_code == 401


async def test_patch_needs_if_match_and_rejects_stale_versions(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(maintainer, title="Original")
    url = f"/api/issues/{issue.id}"

    missing = await client.patch(url, json={"title": "New"}, headers=auth(maintainer))
    assert missing.status_code == 428
    assert missing.json()["code"] == "if_match_required"

    ok = await client.patch(
        url, json={"title": "New"}, headers={**auth(maintainer), "If-Match": '"1"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'

    before = (await client.get(url, headers=auth(maintainer))).json()
    stale = await client.patch(
        url, json={"title": "Lost update"}, headers={**auth(maintainer), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert stale.json()["current_version"] == 2
    garbage = await client.patch(
        url, json={"title": "Lost update"}, headers={**auth(maintainer), "If-Match": "abc"}
    )
    assert garbage.status_code == 412
    after = (await client.get(url, headers=auth(maintainer))).json()
    assert after == before
    assert [e.kind for e in await events_of(db, issue.id)] == ["issue.updated"]


async def test_reporter_edits_own_issue_only_while_open(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    url = f"/api/issues/{issue.id}"
    h = {**auth(reporter), "If-Match": '"1"'}

    resp = await client.patch(
        url, json={"title": "Clearer", "severity": "LOW", "description": "_x_"}, headers=h
    )
    assert resp.status_code == 200
    assert resp.json()["description_html"] == "<p><em>x</em></p>\n"

    for field, value in (("tags", ["a"]), ("assignee_id", reporter.id), ("status", "TRIAGED")):
        denied = await client.patch(url, json={field: value}, headers={**h, "If-Match": '"2"'})
        assert denied.status_code == 403, field
        assert denied.json()["code"] == "staff_only_field"

    closed = await make_issue(reporter, status="TRIAGED")
    denied = await client.patch(f"/api/issues/{closed.id}", json={"title": "Too late"}, headers=h)
    assert denied.status_code == 403
    assert denied.json()["code"] == "issue_locked"


async def test_staff_assign_and_tag_with_history(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER, full_name="Max Maintainer")
    other_reporter = await make_user(Role.REPORTER)
    inactive = await make_user(Role.MAINTAINER, is_active=False)
    issue = await make_issue(reporter)
    url = f"/api/issues/{issue.id}"

    for bad in (other_reporter.id, inactive.id, 999_999):
        resp = await client.patch(
            url, json={"assignee_id": bad}, headers={**auth(maintainer), "If-Match": '"1"'}
        )
        assert resp.status_code == 422
        assert resp.json()["code"] == "invalid_assignee"

    resp = await client.patch(
        url,
        json={"assignee_id": maintainer.id, "tags": ["UI", "login"]},
        headers={**auth(maintainer), "If-Match": '"1"'},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["assignee"] == {"id": maintainer.id, "full_name": "Max Maintainer"}
    assert body["tags"] == ["login", "ui"]

    # Unchanged values write nothing: no new version, no history row.
    same = await client.patch(
        url, json={"tags": ["login", "ui"]}, headers={**auth(maintainer), "If-Match": '"2"'}
    )
    assert same.json()["version"] == 2

    resp = await client.patch(
        url,
        json={"assignee_id": None, "tags": ["ui"]},
        headers={**auth(maintainer), "If-Match": '"2"'},
    )
    assert resp.json()["assignee"] is None
    assert resp.json()["tags"] == ["ui"]
    assert resp.json()["version"] == 3

    events = await events_of(db, issue.id)
    assert [e.kind for e in events] == ["issue.updated", "issue.updated"]
    assert events[0].data["changes"] == {
        "assignee": [None, {"id": maintainer.id, "full_name": "Max Maintainer"}],
        "tags": [[], ["login", "ui"]],
    }
    assert events[1].data["changes"]["tags"] == [["login", "ui"], ["ui"]]

    history = await client.get(f"{url}/events", headers=auth(reporter))
    assert history.status_code == 200
    items = history.json()["items"]
    assert [i["kind"] for i in items] == ["issue.updated", "issue.updated"]
    assert items[0]["actor"] == {"id": maintainer.id, "full_name": "Max Maintainer"}

    assignees = await client.get("/api/issues/assignees", headers=auth(maintainer))
    assert [a["id"] for a in assignees.json()] == [maintainer.id]
    assert (await client.get("/api/issues/assignees", headers=auth(reporter))).status_code == 403


async def test_only_admins_delete_issues_and_the_deletion_is_recorded(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(reporter, title="Spam")
    url = f"/api/issues/{issue.id}"

    assert (await client.delete(url, headers=auth(reporter))).status_code == 403
    assert (await client.delete(url, headers=auth(maintainer))).status_code == 403
    resp = await client.delete(url, headers=auth(admin))
    assert resp.status_code == 204
    assert (await client.get(url, headers=auth(admin))).status_code == 404
    assert (await client.delete(url, headers=auth(admin))).status_code == 404
    assert await db.get(Issue, issue.id) is None
    [event] = await events_of(db, issue.id)
    assert event.kind == "issue.deleted"
    assert event.issue_id is None
    assert event.data == {"title": "Spam", "status": "OPEN"}


async def test_markdown_preview_renders_like_stored_issues(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user(Role.REPORTER)
    resp = await client.post(
        "/api/markdown/preview",
        json={"text": "# Title\n[x](javascript:alert(1))"},
        headers=auth(user),
    )
    assert resp.status_code == 200
    html = resp.json()["html"]
    assert "<h1>Title</h1>" in html
    assert "javascript" not in html.split("</h1>")[1].replace("[x](javascript:alert(1))", "")


async def test_null_for_required_fields_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(maintainer)
    for field in ("title", "description", "severity", "status"):
        resp = await client.patch(
            f"/api/issues/{issue.id}",
            json={field: None},
            headers={**auth(maintainer), "If-Match": '"1"'},
        )
        assert resp.status_code == 422, field
    missing = await client.get("/api/issues/999999", headers=auth(maintainer))
    assert missing.status_code == 404
    assert missing.json()["code"] == "issue_not_found"


async def test_deleting_an_issue_removes_its_files_and_keeps_their_history(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
) -> None:
    reporter = await make_user(Role.REPORTER)
    admin = await make_user(Role.ADMIN)
    doomed = await make_issue(reporter)
    kept = await make_issue(reporter)
    files = [
        ("file", ("shot.png", png_bytes())),
        ("file", ("invoice.pdf", PDF)),
        ("file", ("export.csv", b"a,b\n1,2\n")),
    ]
    for issue, parts in ((doomed, files), (kept, files[2:])):
        resp = await client.post(
            f"/api/issues/{issue.id}/attachments", files=parts, headers=auth(reporter)
        )
        assert resp.status_code == 201, resp.text
    folder = settings.storage_dir / "issues" / str(doomed.id)
    assert len(list(folder.iterdir())) == 4  # three files and the image's thumbnail

    # Only an admin deletes; a refused deletion touches nothing.
    refused = await client.delete(f"/api/issues/{doomed.id}", headers=auth(reporter))
    assert refused.status_code == 403
    assert len(list(folder.iterdir())) == 4

    resp = await client.delete(f"/api/issues/{doomed.id}", headers=auth(admin))

    assert resp.status_code == 204
    assert not folder.exists()
    assert len(list((settings.storage_dir / "issues" / str(kept.id)).iterdir())) == 1
    history = await events_of(db, doomed.id)
    assert [e.kind for e in history] == ["attachment.added"] * 3 + ["issue.deleted"]
    assert sorted(e.data["attachment"]["filename"] for e in history[:3]) == [
        "export.csv",
        "invoice.pdf",
        "shot.png",
    ]
    gone = await client.get(
        f"/api/attachments/{history[0].data['attachment']['id']}", headers=auth(admin)
    )
    assert gone.status_code == 404
