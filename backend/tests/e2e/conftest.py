"""Browser tests: the real stack (API and web server processes, PostgreSQL) and real Chromium.

The stack runs on free loopback ports with its own database, so it never collides with a
`make run` on the same machine. Chromium is Debian's (`scripts/install-system-packages`);
Playwright only drives it and never downloads a browser.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.pgserver import scratch_database
from tests.processes import stop
from tests.sessions import signed_in_token
from tracker import migrations
from tracker.config import REPO_ROOT
from tracker.localdb import free_port, to_libpq
from tracker.models import Base

with warnings.catch_warnings():
    # The provider's own dependencies announce their future deprecations on import.
    warnings.simplefilter("ignore")
    from oidc_provider_mock import run_server_in_thread

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET = "e2e-secret-" + "y" * 40
# The external sign-in provider every stack is configured with (a real OpenID provider, local).
OIDC_PROVIDER_NAME = "Mock ID"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Stack:
    web_url: str
    api_url: str
    database_url: str
    storage_dir: Path
    env: dict[str, str]
    # Issuer URL of the local OpenID provider; `PUT {oidc_issuer}/users/<sub>` sets a person's claims.
    oidc_issuer: str

    def tracker(self, *args: str) -> str:
        """Run the `tracker` CLI against this stack's database."""
        result = subprocess.run(
            [str(Path(sys.executable).parent / "tracker"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout + result.stderr


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if not (REPO_ROOT / "frontend" / "build" / "handler.js").exists():
        pytest.fail("The web app is not built: run `make setup` (or `npm run build` in frontend/)")
    logs = Path(tempfile.mkdtemp(prefix="tracker-e2e-"))
    with (
        scratch_database("e2e") as database_url,
        run_server_in_thread() as provider,
    ):
        oidc_issuer = f"http://localhost:{provider.server_port}"
        migrations.upgrade(database_url)
        storage = logs / "storage"
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "STORAGE_DIR": str(storage),
            "LOG_LEVEL": "WARNING",
            "OIDC_ISSUER": oidc_issuer,
            "OIDC_CLIENT_ID": "tracker-e2e",
            "OIDC_CLIENT_SECRET": "e2e-oidc-secret",
            "OIDC_PROVIDER_NAME": OIDC_PROVIDER_NAME,
            # Notifications within a second of the change, with room to spare on a busy machine.
            "NOTIFY_INTERVAL_SECONDS": "0.5",
        }
        try:
            with serve(env, logs) as (api_url, web_url, served_env):
                yield Stack(web_url, api_url, database_url, storage, served_env, oidc_issuer)
        finally:
            shutil.rmtree(logs, ignore_errors=True)


@contextmanager
def serve(env: dict[str, str], logs: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """An API process, the worker and a web server in front of the API, on free ports, with
    `env` (their settings); yields the URLs and the API's full environment, and stops all three
    afterwards. The worker turns changes into notifications; when a stack shares its database
    with another one, one of the two workers leads and the other stands by."""
    api_port, web_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    api_url = f"http://127.0.0.1:{api_port}"
    env = {**env, "WEB_ORIGIN": web_url, "API_PORT": str(api_port)}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        api_log = logs / f"api-{api_port}.log"
        procs.append(
            subprocess.Popen(
                [str(Path(sys.executable).parent / "tracker"), "serve", "--port", str(api_port)],
                env=env,
                stdout=api_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait(f"{api_url}/healthz", procs[-1], api_log)
        worker_log = logs / f"worker-{api_port}.log"
        procs.append(
            subprocess.Popen(
                [str(Path(sys.executable).parent / "tracker"), "worker"],
                # No metrics endpoint: its fixed port would collide between stacks.
                env={**env, "WORKER_METRICS_PORT": "0"},
                stdout=worker_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        web_log = logs / f"web-{web_port}.log"
        web_env = {
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(web_port),
            "API_URL": api_url,
            "ORIGIN": web_url,
        }
        procs.append(
            subprocess.Popen(
                ["node", "server.js"],
                cwd=REPO_ROOT / "frontend",
                env=web_env,
                stdout=web_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait(f"{web_url}/", procs[-1], web_log)
        yield api_url, web_url, env
    finally:
        stop(procs)


@pytest.fixture(autouse=True)
def _isolate(request: pytest.FixtureRequest) -> Iterator[None]:
    """Replaces the unit tests' async clean-up: Playwright's sync API needs no running loop."""
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    # A request the finished test's page started can still be running in the API; its locks
    # may meet TRUNCATE's in the other order, and PostgreSQL then cancels one of the two.
    for attempt in range(5):
        try:
            with psycopg.connect(to_libpq(stack.database_url), autocommit=True) as conn:
                conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")  # type: ignore[arg-type]
            break
        except psycopg.errors.DeadlockDetected:
            if attempt == 4:
                raise
            time.sleep(0.2)
    # Ids start again at 1: files left by an earlier test would look like the next one's.
    shutil.rmtree(stack.storage_dir / "issues", ignore_errors=True)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/install-system-packages")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=stack.web_url, viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def live_frames(page: Page) -> list[str]:
    """Every frame the page's live sockets receive, from now on."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    return frames


def wait_until_live(page: Page, frames: list[str]) -> None:
    """The page is hydrated and its socket is open (the server said `ready`): a click on a link
    now navigates inside the app, fetching the next page's data as JSON, instead of loading a
    new document (which `document.readyState` alone does not promise on a busy machine)."""
    for _ in range(200):
        if any('"type":"ready"' in f.replace(" ", "") for f in frames):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the page never opened its live socket: {frames}")


# --- what the browser tests share -------------------------------------------------------------


PASSWORD = "correct horse battery"


def make_user(stack: Stack, email: str, role: str, name: str) -> int:
    stack.tracker(
        "users", "create", "--email", email, "--password", PASSWORD, "--role", role,
        "--name", name,
    )  # fmt: skip
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        row = conn.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None
    return int(row[0])


def signed_in(
    browser: Browser, stack: Stack, user_id: int, *, javascript: bool = True
) -> BrowserContext:
    """A browser session for the user. Until the sign-in pages exist this sets the session
    cookie the web server reads, exactly as sign-in will."""
    ctx = browser.new_context(
        base_url=stack.web_url,
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    ctx.set_default_timeout(10_000)
    ctx.add_cookies(
        [
            {
                "name": "tracker_access",
                "value": signed_in_token(stack.env["SECRET_KEY"], stack.database_url, user_id),
                "url": stack.web_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    return ctx


def new_issue(stack: Stack, reporter_id: int) -> int:
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        row = conn.execute(
            "INSERT INTO issues (title, severity, reporter_id) VALUES (%s, 'HIGH', %s) "
            "RETURNING id",
            ("Checkout button does nothing", reporter_id),
        ).fetchone()
    assert row is not None
    return int(row[0])


def png_bytes(color: str = "crimson") -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(image, "PNG")
    return image.getvalue()


MARKER = "set before the change; a reload or navigation would lose it"


class People:
    def __init__(self, browser: Browser, stack: Stack) -> None:
        self.stack = stack
        self.reporter_id = make_user(stack, "rae@example.com", "REPORTER", "Rae Reporter")
        self.maintainer_id = make_user(stack, "mia@example.com", "MAINTAINER", "Mia Maintainer")
        self.reporter = signed_in(browser, stack, self.reporter_id)
        self.maintainer = signed_in(browser, stack, self.maintainer_id)

    def api(self, user_id: int) -> httpx.Client:
        token = signed_in_token(self.stack.env["SECRET_KEY"], self.stack.database_url, user_id)
        return httpx.Client(
            base_url=self.stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def file_issue(self, title: str) -> int:
        with self.api(self.reporter_id) as api:
            resp = api.post("/api/issues", json={"title": title, "severity": "HIGH"})
            resp.raise_for_status()
            return int(resp.json()["id"])

    def close(self) -> None:
        self.reporter.close()
        self.maintainer.close()


def still_same_document(page: Page) -> None:
    assert page.evaluate("() => window.__liveMarker") == MARKER


def row(page: Page, issue_id: int) -> Any:
    return page.get_by_test_id("issue-list").locator(f'li[data-issue-id="{issue_id}"]')
