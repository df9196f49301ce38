"""Access tokens: HS256 pinned, typed, short-lived; anything else is a 401."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from tests.auth.flows import bearer, sign_in
from tests.conftest import UserFactory
from tests.sessions import access_token, session_id_for
from tracker.auth.models import User
from tracker.auth.tokens import issue_access_token
from tracker.config import Settings
from tracker.roles import Role


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(settings: Settings, user: User) -> dict[str, object]:
    token = access_token(settings, user.id)
    return dict(jwt.decode(token, settings.secret_key, algorithms=["HS256"], issuer="tracker"))


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/users/me", headers=bearer(token))).status_code


async def test_a_valid_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    assert await _status(client, access_token(settings, user.id)) == 200


async def test_alg_none_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(settings, user))}."
    assert await _status(client, token) == 401


async def test_changed_payload_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    other = await make_user()
    header, _, signature = access_token(settings, user.id).split(".")
    forged = {**_claims(settings, user), "sub": str(other.id)}
    assert await _status(client, f"{header}.{_b64(forged)}.{signature}") == 401


async def test_expired_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    old = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds + 5)
    resp = await client.get(
        "/api/users/me",
        headers=bearer(
            issue_access_token(settings, user.id, session_id=session_id_for(user.id), now=old)
        ),
    )
    assert resp.status_code == 401
    assert resp.json()["code"] == "invalid_token"
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_refresh_token_used_as_access_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)
    assert await _status(client, tokens["refresh_token"]) == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize(
    "forge",
    [
        # Signed with another key.
        lambda s, c: jwt.encode(c, "another-secret-" + "z" * 40, algorithm="HS256"),
        # Another type of token signed with our key.
        lambda s, c: jwt.encode({**c, "typ": "refresh"}, s.secret_key, algorithm="HS256"),
        # Our key, but without an expiry.
        lambda s, c: jwt.encode(
            {k: v for k, v in c.items() if k != "exp"}, s.secret_key, algorithm="HS256"
        ),
        # HS512 is not the pinned algorithm.
        lambda s, c: jwt.encode(c, s.secret_key, algorithm="HS512"),
    ],
    ids=["other-key", "wrong-typ", "no-exp", "other-alg"],
)
async def test_forged_tokens_are_refused(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    forge: Callable[[Settings, dict[str, object]], str],
) -> None:
    user = await make_user()
    assert await _status(client, forge(settings, _claims(settings, user))) == 401


async def test_a_token_without_a_session_id_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    # Signed with our key, valid in every other way: without a sign-in session it could never
    # be ended by signing out, so it is refused.
    user = await make_user()
    claims = {k: v for k, v in _claims(settings, user).items() if k != "sid"}
    resp = await client.get(
        "/api/users/me", headers=bearer(jwt.encode(claims, settings.secret_key, algorithm="HS256"))
    )
    assert (resp.status_code, resp.json()["code"]) == (401, "invalid_token")


async def test_a_token_naming_no_open_session_is_refused(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    made_up = issue_access_token(settings, user.id, session_id=uuid.uuid4())
    resp = await client.get("/api/users/me", headers=bearer(made_up))
    assert (resp.status_code, resp.json()["code"]) == (401, "session_ended")


async def test_access_token_lifetime_is_at_most_fifteen_minutes(settings: Settings) -> None:
    claims = jwt.decode(
        access_token(settings, 1), settings.secret_key, algorithms=["HS256"], issuer="tracker"
    )
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["typ"] == "access"
    assert claims["jti"]


async def test_non_bearer_authorization_is_refused(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/users/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert resp.status_code == 401


async def test_cookie_authentication_checks_origin_on_writes(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    admin = await make_user(role=Role.ADMIN)
    target = await make_user()
    client.cookies.set("tracker_access", access_token(settings, admin.id))
    try:
        assert (await client.get("/api/users/me")).status_code == 200
        foreign = await client.patch(
            f"/api/users/{target.id}",
            json={"role": "MAINTAINER"},
            headers={"Origin": "https://evil.example.com"},
        )
        assert (foreign.status_code, foreign.json()["code"]) == (403, "origin_not_allowed")
        own = await client.patch(
            f"/api/users/{target.id}",
            json={"role": "MAINTAINER"},
            headers={"Origin": settings.web_origin},
        )
        assert own.status_code == 200
    finally:
        client.cookies.clear()
