"""Filing an issue with its files in one request: all of it is created, or none of it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attachments.conftest import assert_nothing_stored, files_on_disk, png_bytes
from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.attachments.models import Attachment
from tracker.auth.models import User
from tracker.config import Settings
from tracker.issues.models import Issue
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def count(db: AsyncSession, model: type[object]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_multipart_creates_the_issue_and_its_two_files(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
) -> None:
    reporter = await make_user(Role.REPORTER, full_name="Rita Reporter")
    png = png_bytes()
    resp = await client.post(
        "/api/issues",
        data={
            "title": "Checkout fails on Safari",
            "description": "See the **screenshot**",
            "severity": "HIGH",
            # Repeated and comma-separated, as a form and a script would send them.
            "tags": ["safari, checkout", "Payments"],
        },
        files=[("file", ("shot.png", png, "image/png")), ("file", ("console.log", b"boom\n"))],
        headers=auth(reporter),
    )

    assert resp.status_code == 201, resp.text
    issue = resp.json()
    assert issue["title"] == "Checkout fails on Safari"
    assert issue["severity"] == "HIGH"
    assert issue["tags"] == ["checkout", "payments", "safari"]
    assert "<strong>screenshot</strong>" in issue["description_html"]
    assert issue["attachment_count"] == 2
    assert resp.headers["location"] == f"/api/issues/{issue['id']}"

    listed = await client.get(f"/api/issues/{issue['id']}/attachments", headers=auth(reporter))
    assert [(a["filename"], a["content_type"], a["preview"]) for a in listed.json()] == [
        ("shot.png", "image/png", "image"),
        ("console.log", "text/plain", "none"),
    ]
    first = listed.json()[0]
    assert first["uploader_name"] == "Rita Reporter"
    download = await client.get(first["url"], headers=auth(reporter))
    assert download.content == png
    folder = settings.storage_dir / "issues" / str(issue["id"])
    assert len(list(folder.iterdir())) == 3  # two files and the image's thumbnail
    assert not any((settings.storage_dir / "tmp").iterdir())

    kinds = await db.scalars(
        select(IssueEvent.kind).where(IssueEvent.issue_id == issue["id"]).order_by(IssueEvent.id)
    )
    assert list(kinds) == ["issue.created", "attachment.added", "attachment.added"]
    fetched = await client.get(f"/api/issues/{issue['id']}", headers=auth(reporter))
    assert fetched.json()["attachment_count"] == 2


async def test_multipart_without_files_is_a_plain_issue(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, settings: Settings
) -> None:
    reporter = await make_user(Role.REPORTER)
    resp = await client.post(
        "/api/issues",
        # A form whose file input was left empty sends an empty, nameless file part.
        data={"title": "Just words"},
        files=[("file", ("", b"", "application/octet-stream"))],
        headers=auth(reporter),
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["attachment_count"] == 0
    assert resp.json()["severity"] == "MEDIUM"
    assert files_on_disk(settings.storage_dir) == []


async def test_one_refused_file_creates_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
) -> None:
    reporter = await make_user(Role.REPORTER)
    resp = await client.post(
        "/api/issues",
        data={"title": "Crash on launch", "severity": "CRITICAL"},
        files=[
            ("file", ("shot.png", png_bytes(), "image/png")),
            # An executable dressed as a PNG: refused by its content, after the good file.
            ("file", ("photo.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png")),
        ],
        headers=auth(reporter),
    )

    assert resp.status_code == 415, resp.text
    problem = resp.json()
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "file_type_not_allowed"
    assert "photo.png" in problem["detail"]
    assert await count(db, Issue) == 0
    assert await count(db, Attachment) == 0
    assert await count(db, IssueEvent) == 0
    assert_nothing_stored(settings.storage_dir)


async def test_a_file_over_the_cap_creates_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
) -> None:
    reporter = await make_user(Role.REPORTER)
    resp = await client.post(
        "/api/issues",
        data={"title": "Huge log"},
        files=[("file", ("huge.log", b"x" * (settings.max_upload_bytes + 1)))],
        headers=auth(reporter),
    )
    assert resp.status_code == 413, resp.text
    assert resp.json()["code"] == "file_too_large"
    assert await count(db, Issue) == 0
    assert_nothing_stored(settings.storage_dir)


async def test_invalid_fields_are_named_and_leave_nothing(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
) -> None:
    reporter = await make_user(Role.REPORTER)
    resp = await client.post(
        "/api/issues",
        data={"title": "  ", "severity": "URGENT", "colour": "red"},
        files=[("file", ("shot.png", png_bytes(), "image/png"))],
        headers=auth(reporter),
    )
    assert resp.status_code == 422, resp.text
    assert {e["field"] for e in resp.json()["errors"]} == {"title", "severity", "colour"}
    assert await count(db, Issue) == 0
    assert_nothing_stored(settings.storage_dir)

    twice = await client.post(
        "/api/issues",
        data={"title": ["one", "two"]},
        files=[("file", ("", b"", "application/octet-stream"))],
        headers=auth(reporter),
    )
    assert twice.status_code == 422
    assert [e["field"] for e in twice.json()["errors"]] == ["title"]


async def test_other_bodies_are_refused_clearly(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, db: AsyncSession
) -> None:
    reporter = await make_user(Role.REPORTER)
    plain = await client.post(
        "/api/issues",
        content=b"title=hello",
        headers={**auth(reporter), "content-type": "text/plain"},
    )
    assert plain.status_code == 415
    assert plain.json()["code"] == "unsupported_media_type"

    broken = await client.post(
        "/api/issues",
        content=b'{"title": ',
        headers={**auth(reporter), "content-type": "application/json"},
    )
    assert broken.status_code == 422
    assert broken.json()["detail"] == "The request body is not valid JSON"

    not_an_object = await client.post("/api/issues", json=["title"], headers=auth(reporter))
    assert not_an_object.status_code == 422
    assert await count(db, Issue) == 0


async def test_anonymous_files_are_never_read(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    resp = await client.post(
        "/api/issues",
        data={"title": "Spam"},
        files=[("file", ("shot.png", png_bytes(), "image/png"))],
    )
    assert resp.status_code == 401
    assert_nothing_stored(settings.storage_dir)


async def test_openapi_describes_both_bodies(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    body = schema["paths"]["/api/issues"]["post"]["requestBody"]
    assert body["required"] is True
    json_body = body["content"]["application/json"]["schema"]
    assert json_body["required"] == ["title"]
    assert set(json_body["properties"]) == {"title", "description", "severity", "tags"}
    form = body["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["items"]["format"] == "binary"
    assert form["properties"]["severity"]["$ref"] == "#/components/schemas/Severity"
    assert "Severity" in schema["components"]["schemas"]


async def test_an_app_without_issue_files_refuses_to_file_or_delete_instead_of_skipping_files(
    app: FastAPI,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reporter = await make_user(Role.REPORTER)
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(reporter)
    monkeypatch.delattr(app.state, "issue_files")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        filed = await client.post("/api/issues", json={"title": "t"}, headers=auth(reporter))
        deleted = await client.delete(f"/api/issues/{issue.id}", headers=auth(admin))
    assert (filed.status_code, deleted.status_code) == (500, 500)
    assert await count(db, Issue) == 1
