"""Two API replicas, one database, one bucket: nothing a request needs lives in one process.

Two real `tracker serve` processes on their own ports share a PostgreSQL database and a
SeaweedFS bucket, each with a scratch folder of its own (as two containers have), as
deploy/compose.yaml runs them behind the proxy without sticky sessions. What one replica does,
the other serves: a file uploaded through one downloads through the other, a subscriber on one
hears the other's change, a sign-in on one is a session on both and its end ends it on both, and
a file deleted through one is gone for both, from the bucket too. An upload cut off mid-stream
leaves nothing anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import connect

from tests.attachments.conftest import png_bytes
from tests.auth.flows import bearer, refresh, sign_in
from tests.processes import TRACKER, stop
from tests.realtime.conftest import Client
from tests.storage_server import ObjectServer
from tracker.attachments.models import Attachment
from tracker.attachments.storage import S3Store
from tracker.config import Settings
from tracker.localdb import free_port
from tracker.roles import Role


@dataclass
class Replica:
    url: str
    scratch: Path  # its own STORAGE_DIR: uploads being received

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=20)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/api/ws"


@dataclass
class Replicas:
    a: Replica
    b: Replica
    bucket: S3Store  # what both keep their files in


@pytest.fixture(scope="module")
def replicas(
    settings: Settings, object_server: ObjectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    prefix = f"replicas-{uuid.uuid4()}"
    common = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STORAGE_", "S3_", "AWS_"))},
        **object_server.environment(prefix),
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url or "",
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "WARNING",
    }
    started: list[tuple[Replica, int, subprocess.Popen[bytes]]] = []
    try:
        for name in ("a", "b"):
            port, scratch = free_port(), tmp_path_factory.mktemp(f"replica-{name}")
            env = {**common, "STORAGE_DIR": str(scratch)}
            proc = subprocess.Popen([TRACKER, "serve", "--port", str(port)], env=env)
            started.append((Replica(f"http://127.0.0.1:{port}", scratch), port, proc))
        for _, port, proc in started:
            _wait_ready(port, proc)
        yield Replicas(started[0][0], started[1][0], object_server.store(prefix))
    finally:
        stop(proc for _, _, proc in started)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """As tests.processes.wait_ready, with room for a machine busy with other test runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"tracker serve exited with {proc.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"tracker serve on {port} was not ready within {timeout:g} s")


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def _rows(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Attachment)) or 0)


async def test_a_file_lives_in_the_bucket_and_every_replica_serves_and_deletes_it(
    replicas: Replicas, settings: Settings, make_user: Any, make_issue: Any
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    data = png_bytes((800, 600))
    async with replicas.a.client() as a, replicas.b.client() as b:
        tokens = await sign_in(a, settings, reporter.email)
        headers = bearer(tokens["access_token"])
        # A subscriber on B, signed in with the session made on A.
        async with connect(replicas.b.ws_url, open_timeout=5) as ws:
            on_b = Client(ws)
            await on_b.send(type="auth", token=tokens["access_token"])
            assert (await on_b.next("ready", within=5))["user"]["id"] == reporter.id
            assert (await on_b.subscribe(f"issue:{issue.id}"))["type"] == "subscribed"

            uploaded = await a.post(
                f"/api/issues/{issue.id}/attachments",
                files=[("file", ("shot.png", data, "image/png"))],
                headers=headers,
            )
            assert uploaded.status_code == 201, uploaded.text
            [item] = uploaded.json()
            heard = await on_b.event(within=5, kind="attachment.added")
            assert heard["data"]["attachment"]["id"] == item["id"]

        key = f"issues/{issue.id}/{item['id']}"
        assert (await replicas.bucket.stat(key)) is not None
        assert (await replicas.bucket.stat(key + ".thumb.webp")) is not None
        # Nothing kept on the replica that received it.
        assert [p for p in replicas.a.scratch.rglob("*") if p.is_file()] == []

        for replica in (a, b):
            download = await replica.get(item["url"], headers=headers)
            assert download.status_code == 200
            assert download.content == data
            assert download.headers["x-content-type-options"] == "nosniff"
            assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
            part = await replica.get(item["url"], headers={**headers, "Range": "bytes=0-7"})
            assert part.status_code == 206 and part.content == data[:8]
            thumb = await replica.get(item["thumbnail_url"], headers=headers)
            assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"

        deleted = await b.delete(item["url"], headers=headers)
        assert deleted.status_code == 204

        for replica in (a, b):
            gone = await replica.get(item["url"], headers=headers)
            assert gone.status_code == 404
            assert gone.json()["code"] == "attachment_not_found"

        async def objects_gone() -> bool:
            return [i.key async for i in replicas.bucket.list_prefix(f"issues/{issue.id}/")] == []

        # Removed once the deletion committed, in the background of the request.
        assert await _eventually(objects_gone)


async def test_a_session_signed_in_on_one_replica_is_one_session_on_both(
    replicas: Replicas, settings: Settings, make_user: Any
) -> None:
    user = await make_user(Role.MAINTAINER)
    async with replicas.a.client() as a, replicas.b.client() as b:
        tokens = await sign_in(a, settings, user.email)

        me = await b.get("/api/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200 and me.json()["id"] == user.id
        refreshed = await refresh(b, tokens["refresh_token"])  # rotated on B
        assert refreshed.status_code == 200, refreshed.text
        renewed = refreshed.json()
        assert (await a.get("/api/users/me", headers=bearer(renewed["access_token"]))).is_success
        # The old refresh token was rotated away on B: A refuses it too.
        assert (await refresh(a, tokens["refresh_token"])).json()["error"] == "invalid_grant"

    # That reuse ended the whole sign-in session, on both replicas (each forgets what it
    # remembered of it when PostgreSQL announces the change).
    async with replicas.a.client() as a, replicas.b.client() as b:

        async def refused_everywhere() -> bool:
            answers = [
                await c.get("/api/users/me", headers=bearer(renewed["access_token"]))
                for c in (a, b)
            ]
            return all(r.status_code == 401 for r in answers)

        assert await _eventually(refused_everywhere)


async def test_an_upload_cut_off_mid_stream_leaves_no_object_and_no_row(
    replicas: Replicas, settings: Settings, make_user: Any, make_issue: Any, db: AsyncSession
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    async with replicas.a.client() as a:
        token = (await sign_in(a, settings, reporter.email))["access_token"]
    host, port = replicas.a.url.removeprefix("http://").split(":")
    boundary = "cut-off-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.log"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    declared = len(head) + 8 * 1024 * 1024

    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST /api/issues/{issue.id}/attachments HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        ).encode()
        + head
    )
    for _ in range(24):  # 3 MB of the 8 the request promised
        writer.write(b"log line\n" * 14_000)
        await writer.drain()

    async def receiving() -> bool:
        return any(replicas.a.scratch.rglob("*"))

    assert await _eventually(receiving)  # the replica was writing it to its scratch folder
    writer.transport.abort()  # the connection drops, as when a laptop lid closes
    del reader

    async def nothing_left() -> bool:
        return not any(p.is_file() for p in replicas.a.scratch.rglob("*"))

    assert await _eventually(nothing_left)
    assert [i.key async for i in replicas.bucket.list_prefix("issues/")] == []
    assert await _rows(db) == 0

    # The replica is none the worse for it.
    async with replicas.a.client() as a:
        ok = await a.post(
            f"/api/issues/{issue.id}/attachments",
            files=[("file", ("next.log", b"fine\n"))],
            headers=bearer(token),
        )
        assert ok.status_code == 201, ok.text
    listed = [i.key async for i in replicas.bucket.list_prefix("issues/")]
    assert listed == [f"issues/{issue.id}/{json.loads(ok.text)[0]['id']}"]
    await replicas.bucket.delete(listed)
