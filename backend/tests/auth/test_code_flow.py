"""Authorization code with PKCE (RFC 7636, RFC 6749 §4.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import authorize, authorize_body, bearer, redeem, refresh
from tests.conftest import PASSWORD, UserFactory
from tracker.auth import pkce
from tracker.auth.models import AuthorizationCode
from tracker.config import Settings

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc7636_appendix_b() -> None:
    assert pkce.s256(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.verify(RFC_VERIFIER, RFC_CHALLENGE)
    assert not pkce.verify(RFC_VERIFIER[:-1] + "j", RFC_CHALLENGE)


async def test_code_flow_with_the_rfc_vector_issues_working_tokens(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user(email="vector@example.com")
    auth = await authorize(client, settings, "Vector@Example.com", verifier=RFC_VERIFIER)

    resp = await redeem(client, settings, auth)

    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    assert len(body["refresh_token"]) >= 43
    me = await client.get("/api/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user.id
    assert me.json()["last_login_at"] is not None


async def _assert_oauth_error(resp: httpx.Response, error: str, status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["error"] == error
    assert body["error_description"]


async def test_wrong_verifier_is_invalid_grant(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    auth = await authorize(client, settings, user.email)
    resp = await redeem(client, settings, auth, code_verifier=pkce.new_verifier())
    await _assert_oauth_error(resp, "invalid_grant")
    # The code was spent by the failed attempt: the right verifier does not revive it.
    await _assert_oauth_error(await redeem(client, settings, auth), "invalid_grant")


async def test_malformed_verifier_is_invalid_request(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    auth = await authorize(client, settings, user.email)
    resp = await redeem(client, settings, auth, code_verifier="short")
    await _assert_oauth_error(resp, "invalid_request")


async def test_reused_code_fails_and_revokes_the_tokens_issued_from_it(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    auth = await authorize(client, settings, user.email)
    first = await redeem(client, settings, auth)
    assert first.status_code == 200
    tokens = first.json()

    await _assert_oauth_error(await redeem(client, settings, auth), "invalid_grant")

    await _assert_oauth_error(await refresh(client, tokens["refresh_token"]), "invalid_grant")
    me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401


async def test_expired_code_is_invalid_grant(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    db: AsyncSession,
) -> None:
    assert settings.auth_code_ttl_seconds <= 60
    user = await make_user()
    auth = await authorize(client, settings, user.email)
    await db.execute(
        update(AuthorizationCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await db.commit()
    await _assert_oauth_error(await redeem(client, settings, auth), "invalid_grant")


async def test_code_expires_within_the_configured_minute(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    db: AsyncSession,
) -> None:
    user = await make_user()
    ttl = timedelta(seconds=settings.auth_code_ttl_seconds)
    # The API sets and checks expiry by its own clock, so the test reads that clock too:
    # PostgreSQL's `created_at` is the transaction's start, before the password check.
    before = datetime.now(UTC)
    await authorize(client, settings, user.email)
    after = datetime.now(UTC)
    row = (await db.execute(AuthorizationCode.__table__.select())).one()
    assert before + ttl <= row.expires_at <= after + ttl


async def test_other_redirect_uri_is_invalid_grant(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    auth = await authorize(client, settings, user.email)
    resp = await redeem(client, settings, auth, redirect_uri="https://evil.example.com/cb")
    await _assert_oauth_error(resp, "invalid_grant")


async def test_plain_method_and_missing_challenge_are_refused_at_authorize(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    verifier = pkce.new_verifier()
    plain = authorize_body(settings, user.email, PASSWORD, verifier[:43])
    plain["code_challenge_method"] = "plain"
    resp = await client.post("/api/oauth/authorize", json=plain)
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_request"
    assert "S256" in resp.json()["detail"]

    missing = authorize_body(settings, user.email, PASSWORD, "")
    resp = await client.post("/api/oauth/authorize", json=missing)
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_request"


async def test_unregistered_client_or_redirect_uri_is_refused_at_authorize(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    body = authorize_body(settings, user.email, PASSWORD, pkce.s256(pkce.new_verifier()))
    resp = await client.post("/api/oauth/authorize", json={**body, "client_id": "other"})
    assert (resp.status_code, resp.json()["code"]) == (400, "invalid_client")
    resp = await client.post(
        "/api/oauth/authorize", json={**body, "redirect_uri": "https://evil.example.com/cb"}
    )
    assert (resp.status_code, resp.json()["code"]) == (400, "invalid_redirect_uri")


async def test_token_endpoint_errors_follow_rfc6749(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    auth = await authorize(client, settings, user.email)

    await _assert_oauth_error(await client.post("/api/oauth/token", data={}), "invalid_request")
    await _assert_oauth_error(
        await client.post("/api/oauth/token", data={"grant_type": "password", "client_id": "web"}),
        "unsupported_grant_type",
    )
    await _assert_oauth_error(
        await redeem(client, settings, auth, client_id="someone-else"), "invalid_client", 401
    )
    await _assert_oauth_error(
        await redeem(client, settings, auth, code="not-a-code"), "invalid_grant"
    )
    # None of the failures above spent the real code.
    assert (await redeem(client, settings, auth)).status_code == 200
