from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def test_comment_permissions_follow_the_rbac_table(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER, full_name="Rae")
    maintainer = await make_user(Role.MAINTAINER)
    other_maintainer = await make_user(Role.MAINTAINER)
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(reporter)
    thread = f"/api/issues/{issue.id}/comments"

    by_reporter = await client.post(thread, json={"body": "**It** broke"}, headers=auth(reporter))
    assert by_reporter.status_code == 201
    comment = by_reporter.json()
    assert comment["author"] == {"id": reporter.id, "full_name": "Rae"}
    assert comment["body_html"] == "<p><strong>It</strong> broke</p>\n"
    assert comment["edited"] is False
    by_maintainer = await client.post(thread, json={"body": "On it"}, headers=auth(maintainer))
    assert by_maintainer.status_code == 201
    assert (await client.post(thread, json={"body": ""}, headers=auth(admin))).status_code == 422

    listed = (await client.get(thread, headers=auth(maintainer))).json()["items"]
    assert [c["body"] for c in listed] == ["**It** broke", "On it"]
    assert [(c["can_edit"], c["can_delete"]) for c in listed] == [(False, False), (True, True)]
    detail = (await client.get(f"/api/issues/{issue.id}", headers=auth(reporter))).json()
    assert detail["comment_count"] == 2

    mine, theirs = f"/api/comments/{comment['id']}", f"/api/comments/{by_maintainer.json()['id']}"
    # Authors edit their own; another maintainer may not; an admin may edit any.
    assert (
        await client.patch(theirs, json={"body": "x"}, headers=auth(reporter))
    ).status_code == 403
    denied = await client.patch(theirs, json={"body": "x"}, headers=auth(other_maintainer))
    assert denied.status_code == 403
    assert denied.json()["code"] == "not_comment_author"
    edited = await client.patch(mine, json={"body": "It broke *twice*"}, headers=auth(reporter))
    assert edited.status_code == 200
    assert edited.json()["edited"] is True
    assert edited.json()["body_html"] == "<p>It broke <em>twice</em></p>\n"
    assert (await client.patch(theirs, json={"body": "moderated"}, headers=auth(admin))).json()[
        "body"
    ] == "moderated"

    assert (await client.delete(theirs, headers=auth(other_maintainer))).status_code == 403
    assert (await client.delete(theirs, headers=auth(maintainer))).status_code == 204
    assert (await client.delete(mine, headers=auth(admin))).status_code == 204
    assert (await client.delete(mine, headers=auth(admin))).status_code == 404
    assert (await client.get(thread, headers=auth(reporter))).json()["items"] == []

    kinds = (
        await db.execute(
            select(IssueEvent.kind, IssueEvent.actor_id, IssueEvent.data)
            .where(IssueEvent.issue_id == issue.id)
            .order_by(IssueEvent.id)
        )
    ).all()
    assert [(k, a) for k, a, _ in kinds] == [
        ("comment.created", reporter.id),
        ("comment.created", maintainer.id),
        ("comment.updated", reporter.id),
        ("comment.updated", admin.id),
        ("comment.deleted", maintainer.id),
        ("comment.deleted", admin.id),
    ]
    # Deleted comments leave no words behind in the history: not in their edits, not in the
    # deletion itself.
    assert all("changes" not in data and "body" not in data for _, _, data in kinds)


async def test_edit_history_text_is_for_staff_only(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(reporter)
    thread = f"/api/issues/{issue.id}/comments"
    created = await client.post(thread, json={"body": "draft words"}, headers=auth(maintainer))
    comment = f"/api/comments/{created.json()['id']}"
    await client.patch(comment, json={"body": "final words"}, headers=auth(maintainer))

    def edits(resp: httpx.Response) -> list[dict[str, object]]:
        return [e["data"] for e in resp.json()["items"] if e["kind"] == "comment.updated"]

    events = f"/api/issues/{issue.id}/events"
    staff_view = edits(await client.get(events, headers=auth(maintainer)))
    assert staff_view[0]["changes"] == {"body": ["draft words", "final words"]}
    reporter_view = edits(await client.get(events, headers=auth(reporter)))
    assert reporter_view == [{"comment_id": created.json()["id"]}]


async def test_unchanged_comment_edit_writes_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    user = await make_user(Role.MAINTAINER)
    issue = await make_issue(user)
    created = await client.post(
        f"/api/issues/{issue.id}/comments", json={"body": "same"}, headers=auth(user)
    )
    resp = await client.patch(
        f"/api/comments/{created.json()['id']}", json={"body": "same"}, headers=auth(user)
    )
    assert resp.status_code == 200
    assert resp.json()["edited"] is False
    count = len((await db.execute(select(IssueEvent.id))).all())
    assert count == 1


async def test_threads_and_history_page_by_id(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    user = await make_user(Role.MAINTAINER)
    issue = await make_issue(user)
    for n in range(5):
        resp = await client.post(
            f"/api/issues/{issue.id}/comments", json={"body": f"c{n}"}, headers=auth(user)
        )
        assert resp.status_code == 201

    for resource, key in (("comments", "body"), ("events", "kind")):
        seen: list[object] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (
                await client.get(
                    f"/api/issues/{issue.id}/{resource}", params=params, headers=auth(user)
                )
            ).json()
            seen += [item[key] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 5, resource
        bad = await client.get(
            f"/api/issues/{issue.id}/{resource}", params={"cursor": "x"}, headers=auth(user)
        )
        assert bad.status_code == 400
    assert seen == ["comment.created"] * 5
