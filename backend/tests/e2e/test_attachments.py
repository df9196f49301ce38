"""Attachments through the real stack: the browser's path (web origin, /api proxy, session cookie)
for the upload, and a MAINTAINER's download of the very same bytes.

The browser part (drop a PNG on the issue page, see its preview) joins this once the issue page
exists; this test already holds the API and the proxy to the contract the page relies on.
"""

from __future__ import annotations

import hashlib
import io

import httpx
import psycopg
from PIL import Image

from tests.e2e.conftest import SECRET, Stack
from tracker.auth.tokens import issue_access_token
from tracker.config import Environment, Settings
from tracker.localdb import to_libpq


def _user(stack: Stack, email: str, role: str) -> int:
    stack.tracker(
        "users", "create", "--email", email, "--password", "correct horse battery",
        "--role", role, "--name", role.title(),
    )  # fmt: skip
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        row = conn.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None
    return int(row[0])


def _issue(stack: Stack, reporter_id: int) -> int:
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        row = conn.execute(
            "INSERT INTO issues (title, severity, reporter_id) VALUES (%s, 'HIGH', %s) "
            "RETURNING id",
            ("Checkout button does nothing", reporter_id),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _cookie(stack: Stack, user_id: int) -> dict[str, str]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        secret_key=SECRET,
        database_url=stack.database_url,
    )
    return {"tracker_access": issue_access_token(settings, user_id)}


def test_upload_through_the_web_origin_and_a_maintainer_downloads_the_same_bytes(
    stack: Stack,
) -> None:
    reporter = _user(stack, "reporter@example.com", "REPORTER")
    maintainer = _user(stack, "maintainer@example.com", "MAINTAINER")
    issue_id = _issue(stack, reporter)
    image = io.BytesIO()
    Image.new("RGB", (320, 200), "crimson").save(image, "PNG")
    png = image.getvalue()

    with httpx.Client(base_url=stack.web_url, cookies=_cookie(stack, reporter)) as browser:
        # Without the Origin header a cookie-authenticated write is refused (CSRF).
        refused = browser.post(
            f"/api/issues/{issue_id}/attachments", files=[("file", ("shot.png", png))]
        )
        assert refused.status_code == 403
        resp = browser.post(
            f"/api/issues/{issue_id}/attachments",
            files=[("file", ("shot.png", png, "image/png"))],
            headers={"Origin": stack.web_url},
        )
        assert resp.status_code == 201, resp.text
        [item] = resp.json()
        assert item["preview"] == "image"
        thumb = browser.get(item["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"

    with httpx.Client(base_url=stack.web_url, cookies=_cookie(stack, maintainer)) as staff:
        listed = staff.get(f"/api/issues/{issue_id}/attachments")
        assert [a["id"] for a in listed.json()] == [item["id"]]
        download = staff.get(item["url"], params={"download": 1})

    assert download.status_code == 200
    assert download.content == png
    assert hashlib.sha256(download.content).hexdigest() == item["sha256"]
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith('attachment; filename="shot.png"')
    stored = stack.storage_dir / "issues" / str(issue_id) / item["id"]
    assert stored.read_bytes() == png
