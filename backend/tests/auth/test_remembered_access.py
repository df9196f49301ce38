"""Remembered access checks: a change made anywhere ends what was remembered about it.

Each API process remembers who a token's user is and whether their sign-in session has ended
(tracker/auth/access_cache.py). These changes are made straight in the database, as another
API process or an operator would, so only PostgreSQL's announcement can reach this one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import bearer, sign_in
from tests.conftest import UserFactory
from tests.sessions import session_id_for
from tracker.auth.access_cache import ACCESS_CHANNEL
from tracker.auth.models import User
from tracker.config import Settings
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def _soon(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_deactivation_elsewhere_refuses_a_remembered_caller(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user(Role.MAINTAINER)
    assert (await client.get("/api/users/me", headers=auth(user))).status_code == 200
    assert app.state.access_cache.get((user.id, session_id_for(user.id))) is not None

    await db.execute(text("UPDATE users SET is_active = false WHERE id = :id"), {"id": user.id})
    await db.commit()

    async def refused() -> bool:
        me = await client.get("/api/users/me", headers=auth(user))
        return (me.status_code, me.json().get("code")) == (401, "inactive_account")

    assert await _soon(refused, seconds=2.0)


async def test_a_session_ended_elsewhere_refuses_its_access_token(
    client: httpx.AsyncClient, settings: Settings, db: AsyncSession, make_user: UserFactory
) -> None:
    user = await make_user()
    tokens = await sign_in(client, settings, user.email)
    headers = bearer(tokens["access_token"])
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200

    await db.execute(
        text("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = :id"), {"id": user.id}
    )
    await db.commit()

    async def refused() -> bool:
        me = await client.get("/api/users/me", headers=headers)
        return (me.status_code, me.json().get("code")) == (401, "session_ended")

    assert await _soon(refused, seconds=2.0)


async def test_nothing_is_remembered_across_a_lost_listener(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user(Role.MAINTAINER)
    assert (await client.get("/api/users/me", headers=auth(user))).json()["role"] == "MAINTAINER"

    # A change nobody announces (triggers off for this transaction): the remembered answer
    # stands while the listener is connected …
    await db.execute(text("SET LOCAL session_replication_role = replica"))
    await db.execute(text("UPDATE users SET role = 'REPORTER' WHERE id = :id"), {"id": user.id})
    await db.commit()
    assert (await client.get("/api/users/me", headers=auth(user))).json()["role"] == "MAINTAINER"

    # … and is dropped the moment the listener's connection goes: changes could go unheard.
    await db.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'tracker-listen' AND datname = current_database()"
        )
    )
    await db.commit()

    async def current() -> bool:
        me = await client.get("/api/users/me", headers=auth(user))
        return bool(me.json()["role"] == "REPORTER")

    assert await _soon(current)
    listener = app.state.realtime_listener
    await asyncio.wait_for(listener.connected.wait(), 10)
    assert app.state.access_cache.live


async def test_the_triggers_announce_on_the_channel_the_listener_hears(db: AsyncSession) -> None:
    functions = await db.execute(
        text("SELECT prosrc FROM pg_proc WHERE proname = 'announce_access_change'")
    )
    assert f"'{ACCESS_CHANNEL}'" in functions.scalar_one()
