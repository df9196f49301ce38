"""A REPORTER never learns that someone else's issue exists."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.attachments.conftest import png_bytes
from tests.conftest import IssueFactory, UserFactory
from tracker.auth.models import User
from tracker.markdown import render_markdown
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]

# Every route under an issue: the same 404 promise covers them all.
ISSUE_SUBRESOURCES = ["", "/comments", "/events", "/attachments"]


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
    attached = await client.post(
        f"/api/issues/{secret.id}/attachments",
        files=[("file", ("shot.png", png_bytes(), "image/png"))],
        headers=auth(owner),
    )
    attachment = attached.json()[0]
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
        client.post(
            f"/api/issues/{secret.id}/attachments",
            files=[("file", ("mine.txt", b"hello"))],
            headers=auth(stranger),
        ),
        client.delete(attachment["url"], headers=auth(stranger)),
    ]
    for write in writes:
        resp = await write
        assert resp.status_code == 404, resp.text

    # The file itself, its preview and its download stay hidden too.
    for url in (attachment["url"], attachment["thumbnail_url"], f"{attachment['url']}?download=1"):
        resp = await client.get(url, headers=auth(stranger))
        assert resp.status_code == 404, url
        assert resp.json()["code"] == "attachment_not_found"
        assert (await client.get(url, headers=auth(maintainer))).status_code == 200

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


async def test_a_reporter_sees_only_the_tags_on_their_own_issues(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    await client.post("/api/issues", json={"title": "t", "tags": ["ui"]}, headers=auth(reporter))
    await client.post(
        "/api/issues",
        json={"title": "t", "tags": ["ui", "acme-layoffs"]},
        headers=auth(other),
    )
    for query in ({}, {"q": "acme"}):
        mine = await client.get("/api/tags", params=query, headers=auth(reporter))
        assert "acme-layoffs" not in {t["name"] for t in mine.json()}
    everyone = await client.get("/api/tags", headers=auth(maintainer))
    assert [(t["name"], t["issue_count"]) for t in everyone.json()] == [
        ("acme-layoffs", 1),
        ("ui", 2),
    ]
    mine = await client.get("/api/tags", headers=auth(reporter))
    assert [(t["name"], t["issue_count"]) for t in mine.json()] == [("ui", 1)]
