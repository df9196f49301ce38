"""Another web server (frontend/server.js) in front of a stack's API, configured as an operator
would configure it: behind a proxy, with another ORIGIN, with other body limits."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import stop
from tracker.config import REPO_ROOT
from tracker.localdb import free_port

# Settings of server.js and adapter-node that a test sets itself; never inherited from the caller.
WEB_SETTINGS = (
    "ORIGIN",
    "ADDRESS_HEADER",
    "XFF_DEPTH",
    "PROTOCOL_HEADER",
    "HOST_HEADER",
    "BODY_SIZE_LIMIT",
    "API_JSON_BODY_LIMIT",
    "API_UPLOAD_BODY_LIMIT",
)


@contextmanager
def web_server(api_url: str, **settings: str) -> Iterator[str]:
    """`node server.js` on a free loopback port, forwarding to `api_url`, with `settings` as its
    environment (ORIGIN unset unless given); yields its URL and stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in WEB_SETTINGS}
    env |= {"HOST": "127.0.0.1", "PORT": str(port), "API_URL": api_url, **settings}
    with tempfile.TemporaryDirectory(prefix="tracker-web-") as logs:
        log = Path(logs) / "web.log"
        proc = subprocess.Popen(
            ["node", "server.js"],
            cwd=REPO_ROOT / "frontend",
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(f"{url}/robots.txt", proc, log)
            yield url
        finally:
            stop([proc])


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server.js exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a loopback URL
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in 60s:\n{log.read_text()[-4000:]}")
