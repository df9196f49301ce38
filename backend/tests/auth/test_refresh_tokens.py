"""Refresh tokens: opaque, hashed at rest, rotated on every use, reuse ends the session."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import bearer, refresh, sign_in
from tests.conftest import UserFactory
from tracker.auth.models import RefreshToken
from tracker.config import Settings


async def test_refresh_rotates_and_stores_only_a_hash(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, db: AsyncSession
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)

    resp = await refresh(client, tokens["refresh_token"])

    assert resp.status_code == 200
    rotated = resp.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (await client.get("/api/users/me", headers=bearer(rotated["access_token"]))).is_success
    hashes = set((await db.execute(select(RefreshToken.token_hash))).scalars())
    assert hashlib.sha256(rotated["refresh_token"].encode()).hexdigest() in hashes
    assert rotated["refresh_token"] not in hashes


async def test_reusing_a_rotated_token_ends_the_whole_family(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    first = await sign_in(client, settings, user.email)
    second = (await refresh(client, first["refresh_token"])).json()
    newest = (await refresh(client, second["refresh_token"])).json()

    replay = await refresh(client, first["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The legitimate holder's newest token is dead too, and so is its access token.
    after = await refresh(client, newest["refresh_token"])
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    me = await client.get("/api/users/me", headers=bearer(newest["access_token"]))
    assert me.status_code == 401
    assert me.json()["code"] == "session_ended"


async def test_reuse_leaves_other_sessions_of_the_user_alone(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    laptop = await sign_in(client, settings, user.email)
    phone = await sign_in(client, settings, user.email)
    await refresh(client, laptop["refresh_token"])
    await refresh(client, laptop["refresh_token"])  # replay: ends the laptop session only

    assert (await refresh(client, phone["refresh_token"])).status_code == 200


async def test_expired_refresh_token_is_invalid_grant(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, db: AsyncSession
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)
    await db.execute(
        update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await db.commit()
    resp = await refresh(client, tokens["refresh_token"])
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_grant")


async def test_refresh_for_another_client_or_unknown_token_fails(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)
    other = await client.post(
        "/api/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "cli",
        },
    )
    assert (other.status_code, other.json()["error"]) == (401, "invalid_client")
    unknown = await refresh(client, "x" * 43)
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")
    missing = await client.post(
        "/api/oauth/token", data={"grant_type": "refresh_token", "client_id": "web"}
    )
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


async def test_revoke_ends_the_session_and_always_answers_200(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)

    resp = await client.post("/api/oauth/revoke", data={"token": tokens["refresh_token"]})

    assert resp.status_code == 200
    assert (await refresh(client, tokens["refresh_token"])).status_code == 400
    me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    for junk in ({"token": "not-a-token"}, {}, {"token": tokens["refresh_token"]}):
        assert (await client.post("/api/oauth/revoke", data=junk)).status_code == 200


async def test_revoking_an_access_token_ends_its_session(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)
    resp = await client.post("/api/oauth/revoke", data={"token": tokens["access_token"]})
    assert resp.status_code == 200
    assert (await refresh(client, tokens["refresh_token"])).status_code == 400
