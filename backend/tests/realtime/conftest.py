"""Realtime tests run a real uvicorn server (in a thread, own event loop) and real WebSockets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from tests.sessions import access_token
from tracker.activity.service import record_event
from tracker.app import create_app
from tracker.auth.models import User
from tracker.config import Settings
from tracker.localdb import free_port
from tracker.realtime.hub import Hub


@dataclass
class LiveServer:
    app: FastAPI
    url: str  # ws://127.0.0.1:<port>/api/ws

    @property
    def http_url(self) -> str:
        return self.url.replace("ws://", "http://", 1).removesuffix("/api/ws")

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.realtime
        return hub


def run_in_thread(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    return server, thread, port


@pytest.fixture(scope="session")
def live(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    hub: Hub = app.state.realtime
    hub.timing.heartbeat = 0.5
    hub.timing.auth_timeout = 1.0
    hub.timing.access_refresh = 0.3
    hub.timing.presence_heartbeat = 1.0
    hub.queue_size = 64
    with serving(app) as server:
        yield server


@contextmanager
def serving(app: FastAPI) -> Iterator[LiveServer]:
    """`app` behind a real uvicorn server in a thread, for as long as the block runs."""
    server, thread, port = run_in_thread(app)
    try:
        yield LiveServer(app, f"ws://127.0.0.1:{port}/api/ws")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class Client:
    """A WebSocket client speaking the tracker protocol, with deadlines on every wait."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, within: float = 2.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        return message

    async def next(self, type_: str, within: float = 2.0, **match: Any) -> dict[str, Any]:
        """The next message of this type (and fields), skipping pings and others."""
        deadline = time.monotonic() + within
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if message["type"] == type_ and all(message.get(k) == v for k, v in match.items()):
                return message

    async def event(self, within: float = 2.0, **match: Any) -> dict[str, Any]:
        """The next history event (presence and stats messages are skipped unless matched)."""
        deadline = time.monotonic() + within
        while True:
            message = await self.next("event", max(0.01, deadline - time.monotonic()), **match)
            if message["id"] is not None or match:
                return message

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """History events received within `seconds` (expected: none)."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await self.recv(left)
            except TimeoutError:
                break
            if message["type"] == "event" and message["id"] is not None:
                got.append(message)
        return got

    async def subscribe(self, channel: str, since: int | None = None) -> dict[str, Any]:
        await self.send(type="subscribe", channel=channel, since=since)
        message = await self.recv()
        while message["type"] not in ("subscribed", "error"):
            message = await self.recv()
        return message


Connect = Callable[..., Any]


@pytest.fixture
async def open_socket(live: LiveServer) -> AsyncIterator[Callable[..., Any]]:
    """open_socket(user) -> Client signed in with a first auth message (or url=... elsewhere)."""
    opened: list[ClientConnection] = []
    settings: Settings = live.app.state.settings

    async def factory(user: User | None = None, *, url: str | None = None, **kwargs: Any) -> Client:
        ws = await connect(url or live.url, open_timeout=5, **kwargs)
        opened.append(ws)
        client = Client(ws)
        if user is not None:
            await client.send(type="auth", token=access_token(settings, user.id))
            ready = await client.next("ready")
            assert ready["user"]["id"] == user.id
        return client

    yield factory
    for ws in opened:
        await ws.close()


@pytest.fixture
def emit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[..., Any]:
    """Record one event in its own committed transaction, as a service would; returns its id."""

    async def factory(
        issue_id: int,
        reporter_id: int,
        *,
        kind: str = "issue.updated",
        actor: User | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        async with sessionmaker() as session:
            await record_event(
                session,
                issue_id=issue_id,
                reporter_id=reporter_id,
                actor_id=actor.id if actor else None,
                kind=kind,
                data=data,
            )
            # The id is drawn when the transaction commits: find the row by the transaction
            # that wrote it.
            xid = (await session.execute(text("SELECT pg_current_xact_id()::xid::text"))).scalar()
            await session.commit()
            found = await session.execute(
                text("SELECT id FROM issue_events WHERE xmin::text = :xid"), {"xid": xid}
            )
            event_id: int = found.scalar_one()
            await session.commit()
            return event_id

    return factory
