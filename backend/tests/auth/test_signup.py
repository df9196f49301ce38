from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import sign_in
from tests.conftest import UserFactory
from tracker.auth.models import SignupAttempt, User
from tracker.config import Settings

STRONG = "a sturdy passphrase 42"


async def test_signup_with_role_admin_yields_a_reporter(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    resp = await client.post(
        "/api/auth/signup",
        json={
            "email": "mallory@example.com",
            "password": STRONG,
            "full_name": "Mallory",
            "role": "ADMIN",
            "is_active": True,
        },
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["role"] == "REPORTER"
    assert "password" not in body and "password_hash" not in body
    tokens = await sign_in(client, settings, "mallory@example.com", STRONG)
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["role"] == "REPORTER"


async def test_email_is_unique_ignoring_case(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user(email="taken@example.com")
    resp = await client.post(
        "/api/auth/signup",
        json={"email": "Taken@Example.COM", "password": STRONG, "full_name": "Again"},
    )
    assert resp.status_code == 409
    assert resp.json()["code"] == "email_taken"
    assert resp.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1", "at least 10"), ("aaaaaaaaaaaa", "repetitive"), ("pw@example.com", "e-mail")],
)
async def test_weak_passwords_are_refused_with_the_reason(
    client: httpx.AsyncClient, password: str, reason: str
) -> None:
    resp = await client.post(
        "/api/auth/signup",
        json={"email": "pw@example.com", "password": password, "full_name": "P"},
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "weak_password"
    assert reason in resp.json()["detail"]


async def test_invalid_email_is_a_validation_error(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/auth/signup", json={"email": "not-an-email", "password": STRONG, "full_name": "X"}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "email"


async def test_name_defaults_to_the_email_local_part(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/auth/signup", json={"email": "noname@example.com", "password": STRONG}
    )
    assert resp.status_code == 201
    assert resp.json()["full_name"] == "noname"


def _client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_sign_ups_from_one_address_are_throttled_taken_or_refused(
    app: FastAPI, settings: Settings, make_user: UserFactory, db: AsyncSession
) -> None:
    await make_user(email="taken@example.com")
    async with _client_from(app, "203.0.113.9") as prober:
        # Asking whether addresses are registered spends the same allowance as creating accounts.
        for n in range(settings.signup_max_per_address):
            email = "taken@example.com" if n % 2 else f"new{n}@example.com"
            resp = await prober.post("/api/auth/signup", json={"email": email, "password": STRONG})
            assert resp.status_code == (409 if n % 2 else 201), resp.text
        blocked = await prober.post(
            "/api/auth/signup", json={"email": "one-more@example.com", "password": STRONG}
        )
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "signup_throttled"
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 0 < int(blocked.headers["retry-after"]) <= settings.signup_window_seconds
    assert "Try again in" in blocked.json()["detail"]
    # The refused attempt created nothing and was not counted against the window.
    assert await db.scalar(select(func.count()).select_from(SignupAttempt)) == (
        settings.signup_max_per_address
    )
    assert not await db.scalar(select(User).where(User.email == "one-more@example.com"))

    async with _client_from(app, "198.51.100.30") as neighbour:
        resp = await neighbour.post(
            "/api/auth/signup", json={"email": "one-more@example.com", "password": STRONG}
        )
    assert resp.status_code == 201
