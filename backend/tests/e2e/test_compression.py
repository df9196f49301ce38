"""Pages leave the web server compressed (brotli or gzip, as the client asks) and decompress to
the page a client that asks for neither gets."""

from __future__ import annotations

import zlib

import httpx

from tests.e2e.conftest import Stack, make_user, new_issue
from tests.sessions import signed_in_token


def _raw(client: httpx.Client, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as resp:
        return resp, b"".join(resp.iter_raw())


def test_the_issue_list_is_sent_compressed_as_the_browser_asks(stack: Stack) -> None:
    mia = make_user(stack, "mia@example.com", "MAINTAINER", "Mia Maintainer")
    for _ in range(25):
        new_issue(stack, mia)
    token = signed_in_token(stack.env["SECRET_KEY"], stack.database_url, mia)
    with httpx.Client(base_url=stack.web_url, cookies={"tracker_access": token}) as client:
        plain, plain_body = _raw(client, "/issues", "identity")
        assert plain.status_code == 200
        assert "content-encoding" not in plain.headers
        assert b"Checkout button does nothing" in plain_body

        gzipped, gzip_body = _raw(client, "/issues", "gzip")
        assert gzipped.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in gzipped.headers["vary"].lower()
        page = zlib.decompress(gzip_body, zlib.MAX_WBITS | 16)
        assert page.count(b"Checkout button does nothing") == plain_body.count(
            b"Checkout button does nothing"
        )
        assert len(gzip_body) * 4 < len(plain_body)

        brotli, brotli_body = _raw(client, "/issues", "br, gzip")
        assert brotli.headers["content-encoding"] == "br"
        assert len(brotli_body) * 4 < len(plain_body)
        # Security headers are kept on compressed answers.
        assert brotli.headers["x-content-type-options"] == "nosniff"
