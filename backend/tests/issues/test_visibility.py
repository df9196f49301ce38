"""A REPORTER never learns that someone else's issue exists."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import IssueFactory, UserFactory
from tracker.issues.markdown import render_markdown
from tracker.users.models import Role, User

Auth = Callable[[User], dict[str, str]]

# The attachments domain extends this list with its routes for an issue it does not own
# (e.g. "/api/issues/{id}/attachments"), so the same 404 promise covers them.
ISSUE_SUBRESOURCES = ["", "/comments", "/events"]


async def test_other_reporters_get_404_everywhere(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    owner = await make_user(Role.REPORTER)
    stranger = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    description = "Zanzibar gateway times out"
    secret = await make_issue(
        owner,
        title="Zanzibar payment bug",
        description=description,
        description_html=render_markdown(description),
    )
    comment = await client.post(
        f"/api/issues/{secret.id}/comments", json={"body": "mine"}, headers=auth(owner)
    )
    comment_id = comment.json()["id"]
    mine = await make_issue(stranger, title="Zanzibar login bug")

    for suffix in ISSUE_SUBRESOURCES:
        resp = await client.get(f"/api/issues/{secret.id}{suffix}", headers=auth(stranger))
        assert resp.status_code == 404, suffix
        assert resp.json()["code"] == "issue_not_found"
        assert (
            await client.get(f"/api/issues/{secret.id}{suffix}", headers=auth(maintainer))
        ).status_code == 200

    writes = [
        client.patch(
            f"/api/issues/{secret.id}",
            json={"title": "pwned"},
            headers={**auth(stranger), "If-Match": '"1"'},
        ),
        client.post(
            f"/api/issues/{secret.id}/comments", json={"body": "hi"}, headers=auth(stranger)
        ),
        client.patch(f"/api/comments/{comment_id}", json={"body": "x"}, headers=auth(stranger)),
        client.delete(f"/api/comments/{comment_id}", headers=auth(stranger)),
    ]
    for write in writes:
        resp = await write
        assert resp.status_code == 404, resp.text

    # Not in the list, not in a search, not in the duplicate hint, not through a filter.
    for params in (
        {},
        {"q": "Zanzibar"},
        {"q": "gateway"},
        {"reporter_id": str(owner.id)},
        {"sort": "severity"},
    ):
        listed = await client.get("/api/issues", params=params, headers=auth(stranger))
        assert [i["id"] for i in listed.json()["items"]] == (
            [] if "reporter_id" in params or params.get("q") == "gateway" else [mine.id]
        ), params
    similar = await client.get(
        "/api/issues/similar", params={"q": "Zanzibar payment"}, headers=auth(stranger)
    )
    assert [s["id"] for s in similar.json()] == [mine.id]

    staff_search = await client.get(
        "/api/issues", params={"q": "Zanzibar"}, headers=auth(maintainer)
    )
    assert {i["id"] for i in staff_search.json()["items"]} == {secret.id, mine.id}
