"""Saved views: private by default, shared by staff, and applying what was saved."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def test_a_view_keeps_filters_search_and_sort_and_is_private_until_shared(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)
    filters = {"status": ["OPEN", "TRIAGED"], "tag": ["safari"], "q": "export", "sort": "-updated"}
    made = await client.post(
        "/api/views", json={"name": "  Safari triage ", "filters": filters}, headers=auth(mia)
    )
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["name"] == "Safari triage"
    assert view["shared"] is False and view["editable"] is True
    assert {k: view["filters"][k] for k in filters} == filters
    assert view["owner"]["id"] == mia.id

    # Private: nobody else lists it or opens it (404, as a missing one).
    assert (await client.get("/api/views", headers=auth(max_))).json() == []
    assert (await client.get(f"/api/views/{view['id']}", headers=auth(max_))).status_code == 404

    shared = await client.patch(
        f"/api/views/{view['id']}", json={"shared": True}, headers=auth(mia)
    )
    assert shared.status_code == 200, shared.text
    for person in (max_, rae):
        listed = (await client.get("/api/views", headers=auth(person))).json()
        assert [(v["name"], v["editable"]) for v in listed] == [("Safari triage", False)]
    # Someone else's shared view is theirs to change.
    refused = await client.patch(
        f"/api/views/{view['id']}", json={"name": "Mine now"}, headers=auth(max_)
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_view_owner"
    assert (await client.delete(f"/api/views/{view['id']}", headers=auth(max_))).status_code == 403


async def test_reporters_keep_their_own_views_but_do_not_share(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    rae = await make_user(Role.REPORTER)
    refused = await client.post(
        "/api/views", json={"name": "Mine", "shared": True}, headers=auth(rae)
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    made = await client.post(
        "/api/views", json={"name": "Mine", "filters": {"reporter_id": "me"}}, headers=auth(rae)
    )
    assert made.status_code == 201, made.text
    assert (await client.get("/api/views", headers=auth(rae))).json()[0]["filters"][
        "reporter_id"
    ] == "me"
    deleted = await client.delete(f"/api/views/{made.json()['id']}", headers=auth(rae))
    assert deleted.status_code == 204
    assert (await client.get("/api/views", headers=auth(rae))).json() == []


async def test_names_are_one_per_person_whatever_their_case_and_bad_filters_are_422(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    first = await client.post("/api/views", json={"name": "Open bugs"}, headers=auth(mia))
    assert first.status_code == 201
    again = await client.post("/api/views", json={"name": "open BUGS"}, headers=auth(mia))
    assert again.status_code == 409
    assert again.json()["code"] == "view_name_taken"
    # Another person may use the same name.
    assert (
        await client.post("/api/views", json={"name": "Open bugs"}, headers=auth(max_))
    ).status_code == 201

    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "ok", "filters": {"status": ["NOPE"]}}, "filters.status.0"),
        ({"name": "ok", "filters": {"cursor": "abc"}}, "filters.cursor"),
        ({"name": "ok", "filters": {"assignee_id": "somebody"}}, "filters.assignee_id"),
        ({"name": "ok", "owner_id": 3}, "owner_id"),
    ):
        refused = await client.post("/api/views", json=body, headers=auth(mia))
        assert refused.status_code == 422, (body, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()


async def test_an_admin_may_tidy_the_teams_shared_views(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    ada = await make_user(Role.ADMIN)
    view = (
        await client.post("/api/views", json={"name": "Team", "shared": True}, headers=auth(mia))
    ).json()
    renamed = await client.patch(
        f"/api/views/{view['id']}", json={"name": "Team triage"}, headers=auth(ada)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["owner"]["id"] == mia.id
    assert (await client.delete(f"/api/views/{view['id']}", headers=auth(ada))).status_code == 204
