"""A small seeded world for fuzzing: one user per role, issues, comments and a file.

Tables are truncated with RESTART IDENTITY after every test, so the seeded rows always get the
same ids; generated ids are steered onto them part of the time (see `steer`), so requests
reach real rows and not only 404s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PASSWORD, IssueFactory
from tests.sessions import open_session
from tracker.app import create_app
from tracker.auth.models import User
from tracker.auth.passwords import hash_password
from tracker.config import Settings
from tracker.roles import Role

ROLES: list[Role | None] = [Role.ADMIN, Role.MAINTAINER, Role.REPORTER, None]


@dataclass
class World:
    users: dict[Role, User]
    headers: dict[Role | None, dict[str, str]]
    ids: dict[str, list[int]]
    attachments: list[uuid.UUID] = field(default_factory=list)


@pytest.fixture(scope="session")
def fuzz_app(settings: Settings) -> Iterator[FastAPI]:
    """The app schemathesis calls: its own instance, started by schemathesis's ASGI client on
    that client's event loop (the session app's pool belongs to pytest's loop)."""
    from schemathesis.python import asgi

    app = create_app(settings)
    yield app
    asgi.shutdown_lifespans()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    make_issue: IssueFactory,
    client: httpx.AsyncClient,
    auth: Callable[[User], dict[str, str]],
) -> World:
    # Users straight into the table with one hash made per session: hashing a password per
    # user per test would cost more than the fuzzing.
    people: list[User] = []
    async with sessionmaker() as session:
        for n, role in enumerate((Role.ADMIN, Role.MAINTAINER, Role.REPORTER, Role.REPORTER)):
            user = User(
                email=f"{role.value.lower()}{n}@example.com",
                username=f"{role.value.lower()}{n}",
                full_name=f"{role.value.title()} {n}",
                password_hash=password_hash,
                role=role,
                is_active=True,
            )
            session.add(user)
            await session.flush()
            await open_session(session, user.id)
            people.append(user)
        await session.commit()
    admin, maintainer, reporter, other = people
    users = {Role.ADMIN: admin, Role.MAINTAINER: maintainer, Role.REPORTER: reporter}
    issues = [
        await make_issue(reporter, title="Export fails"),
        await make_issue(other, title="Someone else's"),
        await make_issue(maintainer, title="Triaged work"),
    ]
    comments = []
    for author, issue in ((reporter, issues[0]), (maintainer, issues[0]), (other, issues[1])):
        made = await client.post(
            f"/api/issues/{issue.id}/comments", json={"body": "seen it"}, headers=auth(author)
        )
        assert made.status_code == 201, made.text
        comments.append(made.json()["id"])
    uploaded = await client.post(
        f"/api/issues/{issues[0].id}/attachments",
        files={"file": ("notes.txt", b"seen on the export page", "text/plain")},
        headers=auth(reporter),
    )
    assert uploaded.status_code == 201, uploaded.text
    headers: dict[Role | None, dict[str, str]] = {role: auth(u) for role, u in users.items()}
    headers[None] = {}
    return World(
        users=users,
        headers=headers,
        ids={
            "issue_id": [i.id for i in issues],
            "comment_id": comments,
            "user_id": [u.id for u in people],
            # Nobody's inbox holds these yet: reading one is the 404 every role gets.
            "notification_id": [1, 2],
            # No endpoint exists: the 404 an ADMIN gets, the 403 everyone else gets first.
            "webhook_id": [1, 2],
            "view_id": [1, 2],
            "import_id": [1, 2],
        },
        attachments=[uuid.UUID(a["id"]) for a in uploaded.json()],
    )
