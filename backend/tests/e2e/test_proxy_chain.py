"""Sign-in throttling counts failures per browser address, across the whole chain of proxies: the
web server's own sign-in call and the /api calls it forwards both tell the API the browser's
address, never a proxy's (which would lock everyone out after a few bad passwords), and never an
address the client made up.

Behind the compose proxy (deploy/compose.yaml) the web server runs with ADDRESS_HEADER and
XFF_DEPTH=1 and the API trusts the internal network; these tests stand in for the proxy by
sending the X-Forwarded-For it would send."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Stack, serve

PASSWORD = "a sturdy passphrase 42"
FAILURES = 5  # LOGIN_MAX_FAILURES, the API's default


@pytest.fixture(scope="module")
def behind_proxy(stack: Stack) -> Iterator[Stack]:
    """An API and a web server on the stack's database, configured as compose configures them
    behind its proxy (here, the loopback network plays the internal one)."""
    logs = Path(tempfile.mkdtemp(prefix="tracker-e2e-proxy-"))
    env = {
        **stack.env,
        "FORWARDED_ALLOW_IPS": "127.0.0.0/8",
        "ADDRESS_HEADER": "x-forwarded-for",
        "XFF_DEPTH": "1",
    }
    try:
        with serve(env, logs) as (api_url, web_url, served_env):
            yield dataclasses.replace(stack, web_url=web_url, api_url=api_url, env=served_env)
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def _account(stack: Stack, email: str) -> str:
    stack.tracker(
        "users", "create", "--email", email, "--password", PASSWORD, "--role", "REPORTER"
    )  # fmt: skip
    return email


def sign_in_form(stack: Stack, email: str, password: str, address: str) -> httpx.Response:
    """The sign-in form posted by a browser without JavaScript, as it reaches the web server
    through a proxy that says the browser is at `address`."""
    with httpx.Client(base_url=stack.web_url, follow_redirects=False, timeout=15) as web:
        return web.post(
            "/auth/signin",
            data={"email": email, "password": password, "redirectTo": ""},
            headers={
                "Origin": stack.web_url,
                "Accept": "text/html,application/xhtml+xml",
                "X-Forwarded-For": address,
            },
        )


def signed_in(resp: httpx.Response) -> bool:
    return resp.status_code == 303 and resp.headers["location"] == "/issues"


def throttled(resp: httpx.Response) -> bool:
    return resp.status_code == 429 and "Too many failed attempts" in resp.text


def authorize(stack: Stack, email: str, password: str, address: str) -> httpx.Response:
    """The API's sign-in step called through the web server's /api."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    with httpx.Client(base_url=stack.web_url, timeout=15) as web:
        return web.post(
            "/api/oauth/authorize",
            json={
                "email": email,
                "password": password,
                "client_id": "web",
                "redirect_uri": f"{stack.web_url}/auth/callback",
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
                "state": "s",
            },
            headers={"X-Forwarded-For": address},
        )


def test_bad_passwords_from_one_browser_behind_the_proxy_lock_out_only_that_browser(
    behind_proxy: Stack,
) -> None:
    owner = _account(behind_proxy, "vera@example.com")

    for _ in range(FAILURES):
        resp = sign_in_form(behind_proxy, owner, "not the password", "203.0.113.7")
        assert resp.status_code == 400 and "do not match" in resp.text
    assert throttled(sign_in_form(behind_proxy, owner, PASSWORD, "203.0.113.7"))

    # The owner, signing in from elsewhere behind the same proxy, is not locked out.
    assert signed_in(sign_in_form(behind_proxy, owner, PASSWORD, "203.0.113.8"))


def test_api_sign_in_through_the_web_server_counts_the_browser_address(
    behind_proxy: Stack,
) -> None:
    owner = _account(behind_proxy, "vera@example.com")

    for _ in range(FAILURES):
        assert authorize(behind_proxy, owner, "not the password", "203.0.113.9").status_code == 401
    assert authorize(behind_proxy, owner, PASSWORD, "203.0.113.9").status_code == 429
    assert authorize(behind_proxy, owner, PASSWORD, "203.0.113.10").status_code == 200


def test_without_a_proxy_in_front_a_client_cannot_pick_its_address(stack: Stack) -> None:
    """Locally (`tracker up`: browser -> web server -> API) nothing in front vouches for an
    X-Forwarded-For, so one a client sends is ignored: changing it between attempts does not
    escape the throttle."""
    owner = _account(stack, "vera@example.com")

    for attempt in range(FAILURES):
        guess = authorize(stack, owner, "not the password", f"198.51.100.{attempt}")
        assert guess.status_code == 401
    # Every attempt came from this one machine, whatever the header said.
    assert authorize(stack, owner, PASSWORD, "198.51.100.77").status_code == 429
    assert throttled(sign_in_form(stack, owner, PASSWORD, "198.51.100.78"))
