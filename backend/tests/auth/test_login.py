"""The first-party login step: credentials, deactivated accounts, throttling."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import authorize, authorize_body
from tests.conftest import PASSWORD, UserFactory
from tracker.auth import pkce
from tracker.auth.models import LoginAttempt
from tracker.config import Settings


def _body(settings: Settings, email: str, password: str) -> dict[str, object]:
    return authorize_body(settings, email, password, pkce.s256(pkce.new_verifier()))


async def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    wrong = await client.post("/api/oauth/authorize", json=_body(settings, user.email, "nope-nope"))
    unknown = await client.post(
        "/api/oauth/authorize", json=_body(settings, "ghost@example.com", PASSWORD)
    )
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_credentials"
        assert resp.json()["detail"] == wrong.json()["detail"]


async def test_deactivated_account_cannot_sign_in(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user(is_active=False)
    resp = await client.post("/api/oauth/authorize", json=_body(settings, user.email, PASSWORD))
    assert (resp.status_code, resp.json()["code"]) == (403, "account_disabled")


async def test_repeated_failures_for_one_account_are_throttled(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, db: AsyncSession
) -> None:
    user = await make_user()
    for _ in range(settings.login_max_failures):
        resp = await client.post("/api/oauth/authorize", json=_body(settings, user.email, "bad-x"))
        assert resp.status_code == 401

    # Even the right password is refused while throttled.
    blocked = await client.post("/api/oauth/authorize", json=_body(settings, user.email, PASSWORD))

    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert blocked.json()["code"] == "login_throttled"
    retry = int(blocked.headers["retry-after"])
    assert 0 < retry <= settings.login_window_seconds
    assert "Try again in" in blocked.json()["detail"]
    # Failures were remembered even though each request was refused (and rolled back).
    count = await db.scalar(select(func.count()).select_from(LoginAttempt))
    assert count == settings.login_max_failures


async def test_repeated_failures_from_one_address_are_throttled(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    for n in range(settings.login_max_failures_per_address):
        await client.post(
            "/api/oauth/authorize", json=_body(settings, f"guess{n}@example.com", "bad-x")
        )
    blocked = await client.post("/api/oauth/authorize", json=_body(settings, user.email, PASSWORD))
    assert blocked.status_code == 429


async def test_guessing_from_one_address_never_locks_the_owner_out_elsewhere(
    app: FastAPI, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    async with _client_from(app, "203.0.113.7") as attacker:
        for _ in range(settings.login_max_failures):
            resp = await attacker.post(
                "/api/oauth/authorize", json=_body(settings, user.email, "bad-x")
            )
            assert resp.status_code == 401
        assert (
            await attacker.post("/api/oauth/authorize", json=_body(settings, user.email, PASSWORD))
        ).status_code == 429
    async with _client_from(app, "198.51.100.20") as owner:
        resp = await owner.post("/api/oauth/authorize", json=_body(settings, user.email, PASSWORD))
        assert resp.status_code == 200


async def test_guessing_from_many_addresses_slows_the_account_but_does_not_lock_it(
    app: FastAPI, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    # Six past the account's allowance: the next attempt waits the longest (a minute), far
    # longer than this test takes to get there.
    for n in range(settings.login_max_failures_per_account + 6):
        async with _client_from(app, f"203.0.113.{n + 1}") as attacker:
            await attacker.post("/api/oauth/authorize", json=_body(settings, user.email, "bad-x"))
    async with _client_from(app, "198.51.100.20") as owner:
        slowed = await owner.post(
            "/api/oauth/authorize", json=_body(settings, user.email, PASSWORD)
        )
    # The owner is asked to wait briefly, never for the whole window.
    assert (slowed.status_code, slowed.json()["code"]) == (429, "login_throttled")
    assert 0 < int(slowed.headers["retry-after"]) <= 60 < settings.login_window_seconds


def _client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_success_clears_the_account_failures(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user()
    for _ in range(settings.login_max_failures - 1):
        await client.post("/api/oauth/authorize", json=_body(settings, user.email, "bad-x"))
    await authorize(client, settings, user.email)
    # A fresh budget: one more failure does not throttle.
    await client.post("/api/oauth/authorize", json=_body(settings, user.email, "bad-x"))
    await authorize(client, settings, user.email)


async def test_providers_list_is_empty_without_configuration(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/auth/providers")
    assert (resp.status_code, resp.json()) == (200, [])
