"""Request bodies are capped while they are read, over a real HTTP connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.realtime.conftest import serving
from tracker.app import create_app
from tracker.config import Settings

MB = 1024 * 1024


@pytest.fixture(scope="module")
def api_url(settings: Settings) -> Iterator[str]:
    with serving(create_app(settings)) as server:
        yield server.http_url


async def _chunks(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A JSON document of about `total` bytes, sent chunked (no Content-Length)."""
    yield b'{"email": "a@example.com", "password": "p' + b"x" * 10
    sent = 0
    while sent < total:
        yield b"x" * chunk
        sent += chunk
    yield b'", "full_name": "A"}'


def _assert_too_large(resp: httpx.Response, limit: int) -> None:
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert (body["code"], body["limit_bytes"]) == ("payload_too_large", limit)
    assert "at most 1 MB" in body["detail"]


async def test_a_chunked_json_body_over_the_cap_is_refused_while_it_streams(
    api_url: str, settings: Settings
) -> None:
    # 300 MB would take the API's memory with it if it were read before being refused; the
    # answer must come while the client is still sending, after little more than the cap.
    host, port = api_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    answer = asyncio.create_task(reader.read(65536))
    sent = 0
    try:
        # The server hangs up once it has answered and read a little more; what matters is
        # that the answer reached the client first.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            async for piece in _chunks(300 * MB):
                if answer.done():
                    break
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                sent += len(piece)
                # drain() returns at once while the buffer has room: let the reader look too.
                await asyncio.sleep(0)
        head = await asyncio.wait_for(answer, 30)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 413 "), head[:200]
    assert sent < 20 * MB, f"the whole body was read ({sent} bytes) before the answer"
    raw_headers, _, body = head.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in raw_headers.lower()
    problem = json.loads(body)
    assert (problem["code"], problem["limit_bytes"]) == (
        "payload_too_large",
        settings.max_json_body_bytes,
    )


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    api_url: str, settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        resp = await client.post(
            "/api/issues",
            content=b"[" * (2 * MB),
            headers={"content-type": "application/json"},
        )
    _assert_too_large(resp, settings.max_json_body_bytes)


async def test_a_body_within_the_cap_reaches_the_route(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        resp = await client.post(
            "/api/auth/signup",
            content=_chunks(64 * 1024),
            headers={"content-type": "application/json"},
        )
    # Read and validated by the route: refused for what it says, not for its size.
    assert resp.status_code == 422
