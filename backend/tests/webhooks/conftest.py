"""Webhook tests: a real HTTP receiver on 127.0.0.1, the job run directly with a clock the test
moves, and the app told that the receiver's address may be called."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.config import Settings
from tracker.roles import Role
from tracker.webhooks import delivery

DOCS = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """An HTTP server that records every request and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    reply = receiver.script.pop(0) if receiver.script else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """The test settings, with the receiver's loopback address allowed and small batches."""
    return settings.model_copy(
        update={"webhook_allowed_hosts": ["127.0.0.1"], "webhook_timeout_seconds": 5.0}
    )


@pytest.fixture
def hook_app(app: FastAPI, hook_settings: Settings) -> Iterator[FastAPI]:
    """The session's app with `hook_settings` (tests may replace them: `use_settings`)."""
    original = app.state.settings
    app.state.settings = hook_settings
    yield app
    app.state.settings = original


def use_settings(app: FastAPI, **changes: Any) -> None:
    app.state.settings = app.state.settings.model_copy(update=changes)


class Clock:
    """The job's idea of now: starts at the real time, moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def run_job(
    sessionmaker: async_sessionmaker[AsyncSession], hook_settings: Settings, clock: Clock
) -> Callable[..., Any]:
    """One run of the delivery job in its own session, committed as the worker's runner does."""

    async def run(settings: Settings | None = None) -> dict[str, int]:
        async with sessionmaker() as session:
            result = await delivery.run(session, settings or hook_settings, clock=clock)
            await session.commit()
        return result

    return run


@dataclass
class People:
    admin: User
    maintainer: User
    reporter: User
    headers: Callable[[User], dict[str, str]]


@pytest.fixture
async def people(make_user: UserFactory, auth: Callable[[User], dict[str, str]]) -> People:
    return People(
        admin=await make_user(Role.ADMIN, full_name="Ada Admin"),
        maintainer=await make_user(Role.MAINTAINER),
        reporter=await make_user(Role.REPORTER, full_name="Rae Reporter"),
        headers=auth,
    )


@pytest.fixture
async def api(client: httpx.AsyncClient, hook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    yield client


def docs_verifier() -> Callable[..., bool]:
    """The `verify` function of docs/webhooks.md, run exactly as written there."""
    text = DOCS.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    source = next(b for b in blocks if "def verify(" in b)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOCS), "exec"), namespace)  # noqa: S102 (our own documentation)
    verify: Callable[..., bool] = namespace["verify"]
    return verify
