"""The first-party client's side of the code flow, as the web server performs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tracker.auth import pkce
from tracker.config import Settings


@dataclass
class Authorization:
    code: str
    verifier: str
    state: str


def authorize_body(settings: Settings, email: str, password: str, challenge: str) -> dict[str, Any]:
    return {
        "email": email,
        "password": password,
        "client_id": "web",
        "redirect_uri": settings.oauth_redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz-state",
    }


async def authorize(
    client: httpx.AsyncClient,
    settings: Settings,
    email: str,
    password: str = PASSWORD,
    *,
    verifier: str | None = None,
) -> Authorization:
    verifier = verifier or pkce.new_verifier()
    resp = await client.post(
        "/api/oauth/authorize",
        json=authorize_body(settings, email, password, pkce.s256(verifier)),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "xyz-state"
    return Authorization(code=body["code"], verifier=verifier, state=body["state"])


async def redeem(
    client: httpx.AsyncClient, settings: Settings, auth: Authorization, **override: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": auth.code,
        "code_verifier": auth.verifier,
        "client_id": "web",
        "redirect_uri": settings.oauth_redirect_uri,
        **override,
    }
    return await client.post("/api/oauth/token", data=form)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/api/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "web"},
    )


async def sign_in(
    client: httpx.AsyncClient, settings: Settings, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    resp = await redeem(client, settings, await authorize(client, settings, email, password))
    assert resp.status_code == 200, resp.text
    tokens: dict[str, Any] = resp.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
