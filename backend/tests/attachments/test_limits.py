"""GET /api/attachments/limits: the pages learn the upload limits from the API, so an operator who
changes MAX_UPLOAD_BYTES or MAX_ATTACHMENTS_PER_ISSUE gets a UI that tells the truth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tracker.auth.models import User
from tracker.config import Settings
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


@pytest.fixture
def configured(app: FastAPI, settings: Settings) -> Iterator[Callable[..., None]]:
    """Run the app with other limits, as an operator's environment would set them."""

    def apply(**limits: int) -> None:
        app.state.settings = settings.model_copy(update=limits)

    yield apply
    app.state.settings = settings


async def test_limits_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/attachments/limits")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "unauthorized"


async def test_limits_are_the_defaults_for_every_role(
    client: httpx.AsyncClient, make_user: Callable[..., Awaitable[User]], auth: Auth
) -> None:
    for role in (Role.REPORTER, Role.MAINTAINER, Role.ADMIN):
        user = await make_user(role)
        resp = await client.get("/api/attachments/limits", headers=auth(user))
        assert resp.status_code == 200
        assert resp.json() == {"max_file_bytes": 10 * 1024 * 1024, "max_files_per_issue": 20}


async def test_limits_follow_the_configuration_and_are_the_ones_enforced(
    client: httpx.AsyncClient,
    make_user: Callable[..., Awaitable[User]],
    make_issue: Callable[..., Awaitable[object]],
    auth: Auth,
    upload: Callable[..., Awaitable[httpx.Response]],
    configured: Callable[..., None],
) -> None:
    configured(max_upload_bytes=2048, max_attachments_per_issue=2)
    reporter = await make_user(Role.REPORTER)
    resp = await client.get("/api/attachments/limits", headers=auth(reporter))
    assert resp.json() == {"max_file_bytes": 2048, "max_files_per_issue": 2}

    issue = await make_issue(reporter)
    issue_id = issue.id  # type: ignore[attr-defined]
    at_limit = await upload(reporter, issue_id, ("a.txt", b"a" * 2048, "text/plain"))
    assert at_limit.status_code == 201
    over = await upload(reporter, issue_id, ("b.txt", b"b" * 2049, "text/plain"))
    assert over.status_code == 413
    assert over.json()["code"] == "file_too_large"
    await upload(reporter, issue_id, ("c.txt", b"c", "text/plain"))
    full = await upload(reporter, issue_id, ("d.txt", b"d", "text/plain"))
    assert full.status_code == 409
    assert full.json()["max_attachments"] == 2
