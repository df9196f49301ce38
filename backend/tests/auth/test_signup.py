from __future__ import annotations

import httpx
import pytest

from tests.auth.flows import sign_in
from tests.conftest import UserFactory
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
