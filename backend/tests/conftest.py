"""Test harness: one migrated PostgreSQL database per session, every test isolated.

The schema is made by `alembic upgrade head`, as in production. Tests run against real commits
(so NOTIFY, constraints and the request's own transaction behave as they do live); after each
test every table is truncated.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.pgserver import scratch_database
from tests.sessions import access_token, open_session
from tracker import migrations
from tracker.app import create_app
from tracker.auth.access_cache import forget_all_everywhere
from tracker.auth.accounts import create_user
from tracker.auth.models import User
from tracker.config import Environment, Settings
from tracker.issues.models import Issue, Severity, Status
from tracker.models import Base
from tracker.roles import Role

PASSWORD = "correct horse battery"
# `object_server`: a real S3-compatible store (SeaweedFS), started once when a test asks for it.
pytest_plugins = ["tests.storage_server"]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with scratch_database("test") as url:
        migrations.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def storage_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tracker-files-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def settings(database_url: str, storage_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=database_url,
        storage_dir=storage_dir,
        secret_key="test-secret-" + "x" * 40,
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return factory


@pytest.fixture(autouse=True)
async def _isolate(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with app.state.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables}, apscheduler_jobs RESTART IDENTITY CASCADE"))
    # User ids start again at 1: what this process remembered about the last test's users goes
    # now, not when the TRUNCATE's announcement arrives.
    forget_all_everywhere()
    _empty_dir(app.state.settings.storage_dir)


def _empty_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data directly; commit what the app should see."""
    async with sessionmaker() as session:
        yield session


_counter = itertools.count(1)

UserFactory = Callable[..., Awaitable[User]]
IssueFactory = Callable[..., Awaitable[Issue]]


@pytest.fixture
def make_user(sessionmaker: async_sessionmaker[AsyncSession]) -> UserFactory:
    async def factory(
        role: Role = Role.REPORTER,
        *,
        email: str | None = None,
        password: str = PASSWORD,
        full_name: str | None = None,
        is_active: bool = True,
    ) -> User:
        n = next(_counter)
        async with sessionmaker() as session:
            user = await create_user(
                session,
                email=email or f"{role.value.lower()}{n}@example.com",
                password=password,
                full_name=full_name or f"{role.value.title()} {n}",
                role=role,
            )
            user.is_active = is_active
            await session.flush()
            await open_session(session, user.id)
            await session.commit()
            return user

    return factory


@pytest.fixture
def make_issue(sessionmaker: async_sessionmaker[AsyncSession]) -> IssueFactory:
    async def factory(reporter: User, **fields: Any) -> Issue:
        n = next(_counter)
        values: dict[str, Any] = {
            "title": f"Issue {n}",
            "description": "",
            "description_html": "",
            "severity": Severity.MEDIUM,
            "status": Status.OPEN,
            "reporter_id": reporter.id,
        }
        values.update(fields)
        async with sessionmaker() as session:
            issue = Issue(**values)
            session.add(issue)
            await session.commit()
            await session.refresh(issue)
            return issue

    return factory


@pytest.fixture
def auth(settings: Settings) -> Callable[[User], dict[str, str]]:
    """Authorization headers for a user, as the web server would send them."""

    def headers(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token(settings, user.id)}"}

    return headers


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("ENVIRONMENT", "test")
