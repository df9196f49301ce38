"""Security headers on everything the web origin serves: pages, files, redirects, errors and the
API's answers forwarded by the web server; a strict Content-Security-Policy on every page that the
app itself runs under; HSTS only when the browser came over https."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect

from tests.e2e.conftest import Stack, live_frames, make_user, new_issue, signed_in, wait_until_live
from tests.e2e.web_server import web_server
from tests.sessions import signed_in_token

POWERFUL_FEATURES = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")
HALF_A_YEAR = 180 * 24 * 3600


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive -> sources."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_baseline(resp: httpx.Response, *, https: bool = False) -> None:
    where = f"{resp.request.method} {resp.request.url.path} ({resp.status_code})"
    assert resp.headers.get("x-content-type-options") == "nosniff", where
    assert resp.headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    permissions = resp.headers.get("permissions-policy", "")
    for feature in POWERFUL_FEATURES:
        assert feature in permissions, f"{where}: Permissions-Policy lacks {feature}"
    hsts = resp.headers.get("strict-transport-security")
    if https:
        assert hsts, f"{where}: no Strict-Transport-Security over https"
        max_age = re.search(r"max-age=(\d+)", hsts)
        assert max_age and int(max_age.group(1)) >= HALF_A_YEAR, hsts
    else:
        assert hsts is None, f"{where}: Strict-Transport-Security over plain http"


def assert_strict_page_policy(resp: httpx.Response) -> str:
    """The page's CSP is strict; returns the nonce its scripts run with."""
    header = resp.headers.get("content-security-policy")
    assert header, f"{resp.request.url.path}: no Content-Security-Policy"
    csp = policy(header)
    assert csp["default-src"] == ["'self'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, scripts
    nonces = [s for s in scripts if s.startswith("'nonce-")]
    assert len(nonces) == 1 and set(scripts) == {"'self'", nonces[0]}, scripts
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert sorted(csp["img-src"]) == sorted(["'self'", "data:", "blob:"])
    assert csp["connect-src"] == ["'self'"]
    return nonces[0].removeprefix("'nonce-").removesuffix("'")


def test_every_kind_of_response_carries_the_baseline_headers(stack: Stack) -> None:
    with httpx.Client(base_url=stack.web_url, follow_redirects=False, timeout=15) as web:
        page = web.get("/auth/signin")
        asset = re.search(r'(/_app/immutable/[^"\']+\.js)', page.text)
        assert asset, "the page loads no script from /_app"
        answers = {
            "page": page,
            "home page": web.get("/"),
            "redirect to sign-in": web.get("/issues"),
            "page that does not exist": web.get("/no-such-page"),
            "page data": web.get("/auth/signin/__data.json"),
            "static file": web.get("/robots.txt"),
            "build asset": web.get(asset.group(1)),
            "theme switch": web.post(
                "/theme",
                data={"theme": "dark", "redirectTo": "/"},
                headers={"Origin": stack.web_url},
            ),
            "API answer": web.get("/api/healthz"),
            "API error": web.get("/api/no-such-route"),
            "API body too large": web.post(
                "/api/auth/signup",
                content=b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                headers={"Content-Type": "application/json"},
            ),
        }
    statuses = {name: resp.status_code for name, resp in answers.items()}
    assert statuses["redirect to sign-in"] == 303
    assert statuses["page that does not exist"] == 404
    assert statuses["theme switch"] == 303
    assert statuses["API error"] == 404
    assert statuses["API body too large"] == 413

    for name, resp in answers.items():
        assert_baseline(resp)
        if not name.startswith("API"):
            # Whatever the pages' server sends may not be framed, nor run what it does not ship.
            csp = policy(resp.headers.get("content-security-policy", ""))
            assert csp.get("frame-ancestors") == ["'none'"], name
            assert resp.headers.get("x-frame-options") == "DENY", name
    for name in ("page", "home page", "page that does not exist"):
        assert_strict_page_policy(answers[name])


def test_each_page_gets_a_fresh_nonce_that_only_its_own_scripts_carry(stack: Stack) -> None:
    with httpx.Client(base_url=stack.web_url, timeout=15) as web:
        first, second = web.get("/auth/signin"), web.get("/auth/signin")
    nonce = assert_strict_page_policy(first)
    assert nonce != assert_strict_page_policy(second)
    scripts = re.findall(r"<script\b[^>]*>", first.text)
    assert scripts, "SvelteKit starts the page with an inline script"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag


def test_an_attachment_keeps_its_own_sandbox_policy_through_the_web_server(stack: Stack) -> None:
    reporter = make_user(stack, "rita@example.com", "REPORTER", "Rita Reporter")
    issue_id = new_issue(stack, reporter)
    token = signed_in_token(stack.env["SECRET_KEY"], stack.database_url, reporter)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.web_url, headers=auth, timeout=15) as web:
        uploaded = web.post(
            f"/api/issues/{issue_id}/attachments",
            files=[("file", ("report.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))],
        )
        assert uploaded.status_code == 201, uploaded.text
        download = web.get(uploaded.json()[0]["url"])
    assert download.status_code == 200
    assert_baseline(download)
    # The API's own policy, not the pages': the file renders sandboxed, and the issue page may
    # still frame it (PDF preview).
    assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "x-frame-options" not in download.headers


def test_hsts_only_when_the_browser_came_over_https(stack: Stack) -> None:
    with (
        web_server(stack.api_url, ORIGIN="https://tracker.example.com") as public,
        httpx.Client(base_url=public, timeout=15) as web,
    ):
        for path in ("/auth/signin", "/robots.txt", "/api/healthz"):
            assert_baseline(web.get(path), https=True)

    # Without ORIGIN the web server goes by what the proxy in front says about the protocol.
    with (
        web_server(stack.api_url) as behind_proxy,
        httpx.Client(base_url=behind_proxy, timeout=15) as web,
    ):
        tls = {"X-Forwarded-Proto": "https"}
        assert_baseline(web.get("/robots.txt", headers=tls), https=True)
        assert_baseline(web.get("/api/healthz", headers=tls), https=True)
        assert_baseline(web.get("/robots.txt"), https=False)
        assert_baseline(web.get("/api/healthz"), https=False)


class _Pixel(BaseHTTPRequestHandler):
    """Another site's image: a tracking pixel that notes who loaded it."""

    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pixel() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Pixel", (_Pixel,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/pixel.gif", hits
    server.shutdown()
    server.server_close()


RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
"""


def test_the_app_runs_under_its_policy_and_never_loads_a_remote_image(
    browser: Browser, stack: Stack, pixel: tuple[str, list[str]]
) -> None:
    pixel_url, hits = pixel
    maintainer = make_user(stack, "max@example.com", "MAINTAINER", "Max Maintainer")
    token = signed_in_token(stack.env["SECRET_KEY"], stack.database_url, maintainer)
    with httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as api:
        created = api.post(
            "/api/issues",
            json={
                "title": "Checkout looks broken",
                "description": f"See the screenshot:\n\n![screenshot]({pixel_url})",
            },
        )
        assert created.status_code == 201, created.text
    issue_id = created.json()["id"]

    context = signed_in(browser, stack, maintainer)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    theme_posts: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/theme"):
            theme_posts.append(request.url)

    page.on("request", on_request)
    frames = live_frames(page)
    page.goto(f"/issues/{issue_id}")
    # Hydrated and live: SvelteKit's start-up script ran (its nonce matched) and the same-origin
    # WebSocket was allowed.
    wait_until_live(page, frames)

    image = page.get_by_test_id("issue-description").get_by_role("img", name="screenshot")
    expect(image).to_have_count(1)

    def refused() -> bool:
        return bool(
            page.evaluate(
                "url => window.__violations.some(v => v.startsWith('img-src') && v.includes(url))",
                pixel_url,
            )
        )

    deadline = time.monotonic() + 10
    while not hits and not refused():
        assert time.monotonic() < deadline, "the image was neither loaded nor refused"
        page.wait_for_timeout(50)
    assert hits == [], "the browser fetched another site's image (a tracking pixel)"

    # The theme toggle works in place, by script, with no trip to the server.
    page.get_by_role("button", name="Dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert theme_posts == []
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")

    # Moving around inside the app loads its code and data without breaking the policy.
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.get_by_role("link", name="Issues").first.click()
    expect(page.get_by_text("Checkout looks broken")).to_be_visible()

    violations = page.evaluate("() => window.__violations")
    assert all(pixel_url in v for v in violations), violations
    assert hits == []
    context.close()
