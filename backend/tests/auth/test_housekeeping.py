from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.flows import authorize, sign_in
from tests.conftest import UserFactory
from tracker.auth import sessions as auth_sessions
from tracker.auth.models import AuthorizationCode, RefreshToken
from tracker.config import Settings


async def test_purge_removes_only_what_has_expired(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, db: AsyncSession
) -> None:
    user = await make_user()
    # Only the sign-in below: not the session the factory opens for tokens made directly.
    await db.execute(delete(RefreshToken))
    await db.commit()
    await sign_in(client, settings, user.email)
    await authorize(client, settings, user.email)
    # Lapsed a minute ago: kept a day, so its holder is told "expired", not "unknown".
    await db.execute(
        update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    await db.commit()
    assert (await auth_sessions.purge_expired(db, settings))["refresh_tokens"] == 0
    assert await db.scalar(select(func.count()).select_from(RefreshToken)) == 1

    await db.execute(update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(days=2)))
    await db.commit()
    removed = await auth_sessions.purge_expired(db, settings)
    await db.commit()

    assert removed == {
        "authorization_codes": 0,
        "oidc_login_states": 0,
        "refresh_tokens": 1,
        "login_attempts": 0,
        "signup_attempts": 0,
    }
    assert await db.scalar(select(func.count()).select_from(RefreshToken)) == 0
    assert await db.scalar(select(func.count()).select_from(AuthorizationCode)) == 2
