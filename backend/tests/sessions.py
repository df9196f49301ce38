"""Sign-in sessions for tests that do not go through the sign-in flow.

An access token is accepted only while the sign-in session it names is live (a refresh-token
family with a token that was not revoked). Tests that hand a user a token directly open such a
session first: one per user, with an id derived from the user's id, so a test can end it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.tokens import issue_access_token
from tracker.config import Environment, Settings
from tracker.localdb import to_libpq

_NAMESPACE = uuid.UUID("5f0c4c1e-0b1a-4f43-9a55-3b3f7c1d2e10")

_OPEN = (
    "INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, client_id, expires_at) "
    "VALUES (%(id)s, %(hash)s, %(family)s, %(user_id)s, 'web', %(expires)s) "
    "ON CONFLICT (token_hash) DO NOTHING"
)


def session_id_for(user_id: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, str(user_id))


def _values(user_id: int) -> dict[str, object]:
    family = session_id_for(user_id)
    return {
        "id": uuid.uuid4(),
        "hash": hashlib.sha256(family.bytes).hexdigest(),
        "family": family,
        "user_id": user_id,
        "expires": datetime.now(UTC) + timedelta(days=1),
    }


async def open_session(session: AsyncSession, user_id: int) -> uuid.UUID:
    """Open the user's test sign-in session in `session`'s transaction (the caller commits)."""
    values = _values(user_id)
    await session.execute(text(_OPEN.replace("%(", ":").replace(")s", "")), values)
    return session_id_for(user_id)


def open_session_sync(database_url: str, user_id: int) -> uuid.UUID:
    with psycopg.connect(to_libpq(database_url), autocommit=True) as conn:
        conn.execute(_OPEN, _values(user_id))
    return session_id_for(user_id)


def access_token(settings: Settings, user_id: int) -> str:
    """An access token in the user's test sign-in session (opened by `open_session`)."""
    return issue_access_token(settings, user_id, session_id=session_id_for(user_id))


def signed_in_token(secret_key: str, database_url: str, user_id: int) -> str:
    """For a running stack: open the user's session in its database and sign a token for it."""
    open_session_sync(database_url, user_id)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        secret_key=secret_key,
    )
    return access_token(settings, user_id)
