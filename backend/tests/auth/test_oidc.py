"""Sign-in with an external OpenID Connect provider, against a real provider started locally."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import Authorization, bearer, redeem
from tests.conftest import UserFactory
from tracker.auth import oidc_client, pkce
from tracker.auth.models import ExternalIdentity
from tracker.config import Settings
from tracker.roles import Role

with warnings.catch_warnings():
    # The provider's own dependencies announce their future deprecations on import.
    warnings.simplefilter("ignore")
    from oidc_provider_mock import User as ProviderUser
    from oidc_provider_mock import run_server_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PEOPLE = [
    ProviderUser(
        sub="alice-sub",
        claims={"email": "alice@example.com", "email_verified": True, "name": "Alice Liddell"},
    ),
    ProviderUser(sub="eve-sub", claims={"email": "eve@example.com", "email_verified": False}),
    ProviderUser(
        sub="bob-sub", claims={"email": "Bob@Example.com", "email_verified": True, "name": "Bob"}
    ),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def oidc_settings(app: FastAPI, settings: Settings, provider: str) -> AsyncIterator[Settings]:
    configured = settings.model_copy(
        update={
            "oidc_issuer": provider,
            "oidc_client_id": "tracker-test",
            "oidc_client_secret": "s3cret",
            "oidc_provider_name": "Mock ID",
        }
    )
    app.state.settings = configured
    try:
        yield configured
    finally:
        app.state.settings = settings


async def _start(client: httpx.AsyncClient, settings: Settings) -> tuple[str, str]:
    verifier = pkce.new_verifier()
    resp = await client.get(
        "/api/oauth/oidc/start",
        params={
            "client_id": "web",
            "redirect_uri": settings.oauth_redirect_uri,
            "code_challenge": pkce.s256(verifier),
            "code_challenge_method": "S256",
            "state": "client-state",
        },
    )
    assert resp.status_code == 302, resp.text
    return resp.headers["location"], verifier


async def _through_provider(
    client: httpx.AsyncClient, settings: Settings, sub: str
) -> tuple[httpx.Response, str]:
    """Start, pick the provider's user, and follow its redirect back into our callback."""
    location, verifier = await _start(client, settings)
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"][0] and query["state"][0] != "client-state"
    assert query["redirect_uri"] == [f"{settings.web_origin}/api/oauth/oidc/callback"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.post(location, data={"sub": sub})
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert back.path == "/api/oauth/oidc/callback"
    return await client.get(f"{back.path}?{back.query}"), verifier


async def test_first_sign_in_creates_a_reporter_and_issues_our_code(
    client: httpx.AsyncClient, oidc_settings: Settings, db: AsyncSession
) -> None:
    callback, verifier = await _through_provider(client, oidc_settings, "alice-sub")

    assert callback.status_code == 302
    to_client = urlsplit(callback.headers["location"])
    assert f"{to_client.scheme}://{to_client.netloc}{to_client.path}" == (
        oidc_settings.oauth_redirect_uri
    )
    params = parse_qs(to_client.query)
    assert params["state"] == ["client-state"]
    assert "code" in params, params
    tokens = await redeem(
        client, oidc_settings, Authorization(params["code"][0], verifier, "client-state")
    )
    assert tokens.status_code == 200, tokens.text
    me = (await client.get("/api/users/me", headers=bearer(tokens.json()["access_token"]))).json()
    assert (me["email"], me["role"], me["full_name"]) == (
        "alice@example.com",
        "REPORTER",
        "Alice Liddell",
    )
    identity = (await db.execute(select(ExternalIdentity))).scalar_one()
    assert (identity.issuer, identity.subject) == (oidc_settings.oidc_issuer, "alice-sub")

    # Signing in again finds the same account through the linked identity.
    again, verifier = await _through_provider(client, oidc_settings, "alice-sub")
    code = parse_qs(urlsplit(again.headers["location"]).query)["code"][0]
    tokens = await redeem(client, oidc_settings, Authorization(code, verifier, "client-state"))
    assert (
        await client.get("/api/users/me", headers=bearer(tokens.json()["access_token"]))
    ).json()["id"] == me["id"]


async def test_existing_account_is_matched_by_verified_email(
    client: httpx.AsyncClient, oidc_settings: Settings, make_user: UserFactory
) -> None:
    bob = await make_user(Role.MAINTAINER, email="bob@example.com")
    callback, verifier = await _through_provider(client, oidc_settings, "bob-sub")
    code = parse_qs(urlsplit(callback.headers["location"]).query)["code"][0]
    tokens = await redeem(client, oidc_settings, Authorization(code, verifier, "client-state"))
    me = (await client.get("/api/users/me", headers=bearer(tokens.json()["access_token"]))).json()
    assert (me["id"], me["role"]) == (bob.id, "MAINTAINER")


async def test_unverified_email_is_refused_back_to_the_client(
    client: httpx.AsyncClient, oidc_settings: Settings
) -> None:
    callback, _ = await _through_provider(client, oidc_settings, "eve-sub")
    params = parse_qs(urlsplit(callback.headers["location"]).query)
    assert params["error"] == ["access_denied"]
    assert "verified" in params["error_description"][0]
    assert params["state"] == ["client-state"]
    assert "code" not in params


async def test_deactivated_account_is_refused(
    client: httpx.AsyncClient, oidc_settings: Settings, make_user: UserFactory
) -> None:
    await make_user(email="bob@example.com", is_active=False)
    callback, _ = await _through_provider(client, oidc_settings, "bob-sub")
    params = parse_qs(urlsplit(callback.headers["location"]).query)
    assert params["error"] == ["access_denied"]


async def test_state_is_single_use_and_unknown_state_is_refused_to_the_client(
    client: httpx.AsyncClient, oidc_settings: Settings
) -> None:
    location, _ = await _start(client, oidc_settings)
    async with httpx.AsyncClient() as browser:
        consent = await browser.post(location, data={"sub": "alice-sub"})
    back = urlsplit(consent.headers["location"])
    first = await client.get(f"{back.path}?{back.query}")
    assert "code" in parse_qs(urlsplit(first.headers["location"]).query)

    # A replayed callback, or a refusal from a provider that leaves the state out, is sent to
    # the client's page as an unsolicited error: no code, and no state it could take for its own.
    replay = await client.get(f"{back.path}?{back.query}")
    stateless = await client.get("/api/oauth/oidc/callback", params={"error": "access_denied"})
    for resp in (replay, stateless):
        assert resp.status_code == 302
        to_client = urlsplit(resp.headers["location"])
        assert f"{to_client.scheme}://{to_client.netloc}{to_client.path}" == (
            oidc_settings.oauth_redirect_uri
        )
        assert parse_qs(to_client.query) == {
            "error": ["invalid_request"],
            "error_description": ["This sign-in link is unknown or has expired; start again"],
        }


async def test_provider_denial_is_passed_to_the_client(
    client: httpx.AsyncClient, oidc_settings: Settings
) -> None:
    location, _ = await _start(client, oidc_settings)
    state = parse_qs(urlsplit(location).query)["state"][0]
    resp = await client.get(
        "/api/oauth/oidc/callback", params={"error": "access_denied", "state": state}
    )
    params = parse_qs(urlsplit(resp.headers["location"]).query)
    assert (params["error"], params["state"]) == (["access_denied"], ["client-state"])


async def test_a_forged_code_is_refused(client: httpx.AsyncClient, oidc_settings: Settings) -> None:
    location, _ = await _start(client, oidc_settings)
    state = parse_qs(urlsplit(location).query)["state"][0]
    resp = await client.get("/api/oauth/oidc/callback", params={"code": "forged", "state": state})
    params = parse_qs(urlsplit(resp.headers["location"]).query)
    assert params["error"] == ["access_denied"]
    assert "code" not in params


async def test_start_validates_the_client_request(
    client: httpx.AsyncClient, oidc_settings: Settings
) -> None:
    resp = await client.get(
        "/api/oauth/oidc/start",
        params={
            "client_id": "web",
            "redirect_uri": oidc_settings.oauth_redirect_uri,
            "code_challenge": "x" * 43,
            "code_challenge_method": "plain",
        },
    )
    assert (resp.status_code, resp.json()["code"]) == (400, "invalid_request")


async def test_providers_lists_the_configured_provider(
    client: httpx.AsyncClient, oidc_settings: Settings
) -> None:
    resp = await client.get("/api/auth/providers")
    assert resp.json() == [{"id": "oidc", "name": "Mock ID"}]


async def _provider_id_token(provider: str, *, client_id: str, nonce: str) -> str:
    """An ID token straight from the provider, as it would answer us."""
    async with httpx.AsyncClient() as http:
        consent = await http.post(
            f"{provider}/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": "http://127.0.0.1:1/cb",
                "scope": "openid email",
                "nonce": nonce,
                "state": "s",
            },
            data={"sub": "alice-sub"},
        )
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        token = await http.post(
            f"{provider}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1:1/cb",
                "client_id": client_id,
                "client_secret": "x",
            },
        )
    return str(token.json()["id_token"])


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_id_token_checks(oidc_settings: Settings, provider: str) -> None:
    meta = await oidc_client.discover(provider)
    good = await _provider_id_token(provider, client_id="tracker-test", nonce="n-1")
    claims = await oidc_client.verify_id_token(meta, oidc_settings, id_token=good, nonce="n-1")
    assert (claims["sub"], claims["email"]) == ("alice-sub", "alice@example.com")

    with pytest.raises(oidc_client.OidcError, match="nonce"):
        await oidc_client.verify_id_token(meta, oidc_settings, id_token=good, nonce="n-2")

    other_audience = await _provider_id_token(provider, client_id="someone-else", nonce="n-1")
    with pytest.raises(oidc_client.OidcError, match=r"(?i)audience"):
        await oidc_client.verify_id_token(meta, oidc_settings, id_token=other_audience, nonce="n-1")

    header, payload, signature = good.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed["email"] = "mallory@example.com"
    with pytest.raises(oidc_client.OidcError):
        await oidc_client.verify_id_token(
            meta, oidc_settings, id_token=f"{header}.{_b64(changed)}.{signature}", nonce="n-1"
        )

    unsigned = f"{_b64({'alg': 'none'})}.{payload}."
    with pytest.raises(oidc_client.OidcError):
        await oidc_client.verify_id_token(meta, oidc_settings, id_token=unsigned, nonce="n-1")

    with pytest.raises(oidc_client.OidcError, match=r"(?i)issuer"):
        await oidc_client.verify_id_token(
            oidc_client.ProviderMetadata(
                **{**meta.__dict__, "issuer": "https://elsewhere.example.com"}
            ),
            oidc_settings,
            id_token=good,
            nonce="n-1",
        )


async def test_unreachable_provider_is_a_clear_503(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(
        update={"oidc_issuer": "http://127.0.0.1:9", "oidc_client_id": "x"}
    )
    try:
        resp = await client.get(
            "/api/oauth/oidc/start",
            params={
                "client_id": "web",
                "redirect_uri": settings.oauth_redirect_uri,
                "code_challenge": pkce.s256(pkce.new_verifier()),
                "code_challenge_method": "S256",
            },
        )
    finally:
        app.state.settings = settings
    assert (resp.status_code, resp.json()["code"]) == (503, "oidc_provider_unavailable")
