"""The web server holds request bodies forwarded to /api to a limit, counting bytes as they stream
in: an oversized body is refused with 413 problem+json before the client has finished sending it,
and the API never sees it. JSON (and anything not multipart) has a small limit, uploads a large
one; an operator can set both."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Stack, make_user, new_issue
from tests.e2e.web_server import web_server
from tests.sessions import signed_in_token

MIB = 1024 * 1024
PASSWORD = "a sturdy passphrase 42"


def _head(status_line_and_headers: bytes) -> tuple[int, dict[str, str]]:
    lines = status_line_and_headers.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def post_without_finishing(
    web_url: str, path: str, body_bytes: int
) -> tuple[int, dict[str, str], bytes]:
    """POST a chunked JSON body of `body_bytes` to `path` and wait for an answer without ever
    sending the end of the body: only a server that judges the body while it streams in can
    answer at all."""
    url = urlsplit(web_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"[" + b"0," * (32 * 1024 - 1)
        sent = 0
        try:
            while sent < body_bytes:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped listening: its answer is waiting
        received = b""
        while b"\r\n\r\n" not in received:
            data = conn.recv(65536)
            assert data, f"the connection closed without an answer: {received!r}"
            received += data
        head, _, rest = received.partition(b"\r\n\r\n")
        status, headers = _head(head)
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            data = conn.recv(65536)
            assert data
            rest += data
        return status, headers, rest[:length]


def assert_refused(status: int, content_type: str, body: bytes, limit_text: str) -> None:
    assert status == 413
    assert content_type.startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 413
    assert problem["code"] == "payload_too_large"
    assert problem["title"] and problem["type"]
    assert limit_text in problem["detail"], problem


def test_a_json_body_over_one_megabyte_is_refused_while_it_streams_in(stack: Stack) -> None:
    # 2 MB sent, and the body still unfinished (it was to be 5 MB): the answer comes anyway.
    status, headers, body = post_without_finishing(stack.web_url, "/api/auth/signup", 2 * MIB)
    assert_refused(status, headers["content-type"], body, "1 MB")

    # A body declared too large is refused before any of it is read.
    with httpx.Client(base_url=stack.web_url, timeout=15) as web:
        declared = web.post(
            "/api/auth/signup",
            content=b" " * (MIB + 1),
            headers={"Content-Type": "application/json"},
        )
        assert_refused(
            declared.status_code, declared.headers["content-type"], declared.content, "1 MB"
        )

        # An ordinary request is forwarded as before.
        signed_up = web.post(
            "/api/auth/signup",
            json={"email": "nina@example.com", "password": PASSWORD, "full_name": "Nina"},
        )
        assert signed_up.status_code == 201, signed_up.text


JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def small_limits(stack: Stack) -> Iterator[str]:
    """A web server in front of the stack's API whose operator chose small limits (the API's
    own limits are far above them, so every 413 here is the web server's)."""
    with web_server(
        stack.api_url,
        ORIGIN=stack.web_url,
        API_JSON_BODY_LIMIT="64K",
        API_UPLOAD_BODY_LIMIT="256KiB",
    ) as url:
        yield url


def test_the_operator_sets_the_json_limit(stack: Stack, small_limits: str) -> None:
    status, headers, body = post_without_finishing(small_limits, "/api/auth/signup", 128 * 1024)
    assert_refused(status, headers["content-type"], body, "64 KB")
    assert json.loads(body)["limit_bytes"] == JSON_LIMIT

    with httpx.Client(base_url=small_limits, timeout=15) as web:
        signed_up = web.post(
            "/api/auth/signup",
            json={"email": "omar@example.com", "password": PASSWORD, "full_name": "Omar"},
        )
        assert signed_up.status_code == 201, signed_up.text


def test_uploads_have_their_own_larger_limit(stack: Stack, small_limits: str) -> None:
    reporter = make_user(stack, "rita@example.com", "REPORTER", "Rita Reporter")
    issue_id = new_issue(stack, reporter)
    token = signed_in_token(stack.env["SECRET_KEY"], stack.database_url, reporter)
    path = f"/api/issues/{issue_id}/attachments"
    with httpx.Client(
        base_url=small_limits, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as web:
        # Over the JSON limit but within the upload limit: accepted.
        log = b"GET /checkout 500\n" * (100 * 1024 // 18)
        accepted = web.post(path, files=[("file", ("trace.log", log, "text/plain"))])
        assert accepted.status_code == 201, accepted.text

        too_big = web.post(path, files=[("file", ("dump.log", log * 3, "text/plain"))])
        assert_refused(
            too_big.status_code, too_big.headers["content-type"], too_big.content, "256 KB"
        )

        listed = web.get(path)
        assert [a["filename"] for a in listed.json()] == ["trace.log"]
    stored = stack.storage_dir / "issues" / str(issue_id)
    assert len(list(stored.iterdir())) == 1
