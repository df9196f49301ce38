"""User management: ADMIN lists, promotes, demotes and deactivates; the last admin stays."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.auth.flows import bearer, refresh, sign_in
from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.config import Settings
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def test_admin_lists_users_with_filters_and_pages(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN, full_name="Ada Admin")
    await make_user(Role.MAINTAINER, email="mia@example.com", full_name="Mia Maintainer")
    for n in range(3):
        await make_user(email=f"rep{n}@example.com", full_name=f"Reporter {n}")

    everyone = (await client.get("/api/users", headers=auth(admin))).json()
    assert everyone["total"] == 5
    assert {"id", "email", "full_name", "role", "is_active"} <= set(everyone["items"][0])
    assert "password_hash" not in everyone["items"][0]

    reporters = (await client.get("/api/users?role=REPORTER", headers=auth(admin))).json()
    assert reporters["total"] == 3
    assert {u["role"] for u in reporters["items"]} == {"REPORTER"}

    found = (await client.get("/api/users?q=MAINT", headers=auth(admin))).json()
    assert [u["email"] for u in found["items"]] == ["mia@example.com"]
    assert (await client.get("/api/users?q=%25", headers=auth(admin))).json()["total"] == 0

    page = (await client.get("/api/users?limit=2&offset=2", headers=auth(admin))).json()
    assert (len(page["items"]), page["total"]) == (2, 5)
    past = (await client.get("/api/users?limit=2&offset=10", headers=auth(admin))).json()
    assert (past["items"], past["total"]) == ([], 5)


async def test_admin_changes_a_role_and_it_applies_at_once(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user()
    headers = auth(user)
    assert (await client.get("/api/users/staff", headers=headers)).status_code == 403

    resp = await client.patch(
        f"/api/users/{user.id}", json={"role": "MAINTAINER"}, headers=auth(admin)
    )

    assert resp.status_code == 200
    assert resp.json()["role"] == "MAINTAINER"
    # The same access token now carries the new role: roles are read per request.
    staff = await client.get("/api/users/staff", headers=headers)
    assert staff.status_code == 200
    assert {m["id"] for m in staff.json()} == {admin.id, user.id}


async def test_deactivation_stops_access_and_refresh_at_once(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)

    resp = await client.patch(
        f"/api/users/{user.id}", json={"is_active": False}, headers=auth(admin)
    )

    assert resp.status_code == 200
    assert resp.json()["is_active"] is False
    me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert (me.status_code, me.json()["code"]) == (401, "inactive_account")
    assert (await refresh(client, tokens["refresh_token"])).json()["error"] == "invalid_grant"

    # Reactivation does not bring the old sessions back.
    await client.patch(f"/api/users/{user.id}", json={"is_active": True}, headers=auth(admin))
    assert (await refresh(client, tokens["refresh_token"])).status_code == 400
    fresh = await sign_in(client, settings, user.email)
    me = await client.get("/api/users/me", headers=bearer(fresh["access_token"]))
    assert me.status_code == 200


async def test_admin_cannot_demote_or_deactivate_themselves(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_user(Role.ADMIN)
    for change in ({"role": "REPORTER"}, {"is_active": False}):
        resp = await client.patch(f"/api/users/{admin.id}", json=change, headers=auth(admin))
        assert (resp.status_code, resp.json()["code"]) == (409, "cannot_demote_self")
    # Harmless self-edits are fine.
    ok = await client.patch(f"/api/users/{admin.id}", json={"role": "ADMIN"}, headers=auth(admin))
    assert ok.status_code == 200


async def test_the_last_active_admin_cannot_be_removed(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    acting = await make_user(Role.ADMIN)
    other = await make_user(Role.ADMIN)
    # acting demotes other: allowed, acting remains.
    resp = await client.patch(
        f"/api/users/{other.id}", json={"role": "MAINTAINER"}, headers=auth(acting)
    )
    assert resp.status_code == 200
    # A deactivated admin does not count as a remaining admin.
    ghost = await make_user(Role.ADMIN, is_active=False)
    resp = await client.patch(
        f"/api/users/{ghost.id}", json={"is_active": True}, headers=auth(acting)
    )
    assert resp.status_code == 200
    resp = await client.patch(
        f"/api/users/{ghost.id}", json={"role": "REPORTER"}, headers=auth(acting)
    )
    assert resp.status_code == 200
    # Now acting is the only active admin; acting's own demotion is refused (self rule first).
    resp = await client.patch(
        f"/api/users/{acting.id}", json={"role": "REPORTER"}, headers=auth(acting)
    )
    assert resp.status_code == 409


async def test_last_admin_rule_applies_even_to_another_admin_acting(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    lone = await make_user(Role.ADMIN)
    # An admin deactivated earlier still holds a valid-looking token but cannot act.
    former = await make_user(Role.ADMIN, is_active=False)
    resp = await client.patch(
        f"/api/users/{lone.id}", json={"is_active": False}, headers=auth(former)
    )
    assert resp.status_code == 401


async def test_bad_updates_are_clear_4xx(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    user = await make_user()
    missing = await client.patch("/api/users/99999", json={"role": "ADMIN"}, headers=auth(admin))
    assert (missing.status_code, missing.json()["code"]) == (404, "user_not_found")
    bad_role = await client.patch(
        f"/api/users/{user.id}", json={"role": "OWNER"}, headers=auth(admin)
    )
    assert bad_role.status_code == 422
    extra = await client.patch(
        f"/api/users/{user.id}", json={"email": "x@example.com"}, headers=auth(admin)
    )
    assert extra.status_code == 422


async def test_me_returns_the_signed_in_user(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user(Role.MAINTAINER, full_name="Mo Maintainer")
    body = (await client.get("/api/users/me", headers=auth(user))).json()
    assert (body["id"], body["role"], body["full_name"]) == (user.id, "MAINTAINER", "Mo Maintainer")
