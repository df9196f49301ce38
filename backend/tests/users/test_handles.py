"""Handles: every account has a unique @username, chosen or made from the e-mail address, that
its owner and an ADMIN can change."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from tests.conftest import UserFactory
from tests.pgserver import scratch_database
from tracker import migrations
from tracker.auth.handles import MAX_LENGTH, handle_from_email
from tracker.auth.models import User
from tracker.localdb import to_libpq
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]
STRONG = "a sturdy passphrase 42"


async def _signup(client: httpx.AsyncClient, email: str, **extra: str) -> httpx.Response:
    return await client.post("/api/auth/signup", json={"email": email, "password": STRONG, **extra})


async def test_sign_up_makes_a_handle_from_the_address_and_avoids_taken_ones(
    client: httpx.AsyncClient,
) -> None:
    first = await _signup(client, "Rita.Reporter+bugs@example.com")
    second = await _signup(client, "rita.reporter.bugs@example.org")
    assert first.status_code == second.status_code == 201
    assert first.json()["username"] == "rita-reporter-bugs"
    assert second.json()["username"] == "rita-reporter-bugs-2"


async def test_a_chosen_handle_is_kept_and_a_taken_or_malformed_one_refused(
    client: httpx.AsyncClient,
) -> None:
    chosen = await _signup(client, "sam@example.com", username="sam_the-tester")
    assert chosen.json()["username"] == "sam_the-tester"

    taken = await _signup(client, "other@example.com", username="sam_the-tester")
    assert taken.status_code == 409
    assert taken.json()["code"] == "username_taken"
    for bad in ("Sam", "s", "sam tester", "x" * (MAX_LENGTH + 1)):
        resp = await _signup(client, f"bad{len(bad)}@example.com", username=bad)
        assert resp.status_code == 422, bad
        assert resp.json()["errors"][0]["field"] == "username"


async def test_people_change_their_own_handle_and_name(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    rita = await make_user(email="rita@example.com")
    other = await make_user(email="otto@example.com")

    resp = await client.patch(
        "/api/users/me", json={"username": "rita", "full_name": " Rita R. "}, headers=auth(rita)
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["username"], resp.json()["full_name"]) == ("rita", "Rita R.")
    me = (await client.get("/api/users/me", headers=auth(rita))).json()
    assert me["username"] == "rita"

    taken = await client.patch("/api/users/me", json={"username": "rita"}, headers=auth(other))
    assert taken.status_code == 409
    assert taken.json()["code"] == "username_taken"
    # Keeping your own handle is not a conflict.
    same = await client.patch("/api/users/me", json={"username": "rita"}, headers=auth(rita))
    assert same.status_code == 200
    blank = await client.patch("/api/users/me", json={"full_name": "   "}, headers=auth(rita))
    assert blank.status_code == 422


async def test_an_admin_changes_someone_elses_handle_and_nobody_else_can(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    maintainer = await make_user(Role.MAINTAINER)
    rita = await make_user(email="rita@example.com")

    resp = await client.patch(
        f"/api/users/{rita.id}", json={"username": "rita-r"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["username"] == "rita-r"
    refused = await client.patch(
        f"/api/users/{rita.id}", json={"username": "mine"}, headers=auth(maintainer)
    )
    assert refused.status_code == 403
    staff = (await client.get("/api/users/staff", headers=auth(maintainer))).json()
    assert {s["username"] for s in staff} == {admin.username, maintainer.username}


@pytest.mark.parametrize(
    ("email", "handle"),
    [
        ("Jane.Doe@example.com", "jane-doe"),
        ("o'brien__x@example.com", "o-brien__x"),
        ("a@example.com", "a-1"),
        ("...@example.com", "user-1"),
        ("é@example.com", "user-1"),
        (f"{'k' * 60}@example.com", "k" * MAX_LENGTH),
    ],
)
def test_handles_made_from_addresses_follow_the_rules(email: str, handle: str) -> None:
    assert handle_from_email(email) == handle


@pytest.fixture
def before_handles() -> Iterator[str]:
    with scratch_database("handles") as url:
        migrations.upgrade(url, "0007")
        yield url


def test_the_migration_gives_existing_accounts_distinct_handles(before_handles: str) -> None:
    with psycopg.connect(to_libpq(before_handles)) as conn:
        for email in ("max@example.com", "MAX@example.org", "x@example.com", "max-2@example.net"):
            conn.execute(
                "INSERT INTO users (email, full_name, role) VALUES (%s, 'M', 'REPORTER')",
                (email,),
            )
    migrations.upgrade(before_handles)
    with psycopg.connect(to_libpq(before_handles)) as conn:
        rows = conn.execute("SELECT email, username FROM users ORDER BY id").fetchall()
        assert [r[1] for r in rows] == ["max", "max-2", "x-1", "max-2-2"]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE users SET username = 'Not Valid' WHERE email = 'x@example.com'")
