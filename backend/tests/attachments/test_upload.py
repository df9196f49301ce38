"""Uploading files that we accept, and what a user then sees and downloads."""

from __future__ import annotations

import hashlib
import io
import json

from PIL import Image
from sqlalchemy import select

from tests.attachments.conftest import PDF, jpeg_with_exif, png_bytes
from tracker.activity.models import IssueEvent
from tracker.roles import Role


async def test_png_is_stored_by_issue_with_a_thumbnail_and_downloads_byte_for_byte(
    make_user, make_issue, upload, client, auth, storage, db
):
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    data = png_bytes()

    resp = await upload(reporter, issue.id, ("screenshot.png", data, "image/png"))

    assert resp.status_code == 201, resp.text
    [item] = resp.json()
    assert item["filename"] == "screenshot.png"
    assert item["content_type"] == "image/png"
    assert item["size_bytes"] == len(data)
    assert item["sha256"] == hashlib.sha256(data).hexdigest()
    assert item["has_thumbnail"] is True
    assert item["preview"] == "image"
    assert item["uploader_id"] == reporter.id
    assert item["uploader_name"] == reporter.full_name
    assert await storage.names(issue.id) == [item["id"], f"{item['id']}.thumb.webp"]
    assert storage.receiving() == []  # kept in the store, nothing left behind

    download = await client.get(item["url"], headers=auth(reporter))
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert download.headers["cache-control"].startswith("private")
    assert download.headers["etag"] == f'"{item["sha256"]}"'
    assert download.headers["content-disposition"] == (
        "inline; filename=\"screenshot.png\"; filename*=UTF-8''screenshot.png"
    )

    thumb = await client.get(item["thumbnail_url"], headers=auth(reporter))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"

    events = (await db.scalars(select(IssueEvent).where(IssueEvent.issue_id == issue.id))).all()
    assert [(e.kind, e.data["attachment"]["id"]) for e in events] == [
        ("attachment.added", item["id"])
    ]


async def test_thumbnail_carries_no_exif_metadata(
    make_user, make_issue, upload, client, auth, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    original = jpeg_with_exif()
    assert b"SecretCam" in original

    [item] = (await upload(reporter, issue.id, ("photo.jpg", original))).json()

    assert item["content_type"] == "image/jpeg"
    thumb = (await client.get(item["thumbnail_url"], headers=auth(reporter))).content
    assert b"SecretCam" not in thumb
    assert not Image.open(io.BytesIO(thumb)).getexif()
    # The original stays exactly what was uploaded.
    assert (await client.get(item["url"], headers=auth(reporter))).content == original


async def test_several_files_in_one_request_each_get_their_detected_type(
    make_user, make_issue, upload, client, auth, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    files = [
        ("invoice.pdf", PDF),
        ("server.log", b"2026-11-26 12:00:01 ERROR boom\n\x1b[31mred\x1b[0m\n"),
        ("export.csv", "name,city\nZoë,Zürich\n".encode()),
        ("payload.json", b'{"ok": true, "items": [1, 2]}'),
        ("notes.txt", "plain words, ünïcödé\n".encode()),
        ("README", b"no extension at all\n"),
    ]

    resp = await upload(reporter, issue.id, *files)

    assert resp.status_code == 201, resp.text
    got = {
        i["filename"]: (i["content_type"], i["preview"], i["has_thumbnail"]) for i in resp.json()
    }
    assert got == {
        "invoice.pdf": ("application/pdf", "pdf", False),
        "server.log": ("text/plain", "none", False),
        "export.csv": ("text/csv", "none", False),
        "payload.json": ("application/json", "none", False),
        "notes.txt": ("text/plain", "none", False),
        "README": ("text/plain", "none", False),
    }
    listed = await client.get(f"/api/issues/{issue.id}/attachments", headers=auth(reporter))
    assert [i["filename"] for i in listed.json()] == [f[0] for f in files]

    by_name = {i["filename"]: i for i in resp.json()}
    pdf = await client.get(by_name["invoice.pdf"]["url"], headers=auth(reporter))
    assert pdf.headers["content-disposition"].startswith("inline;")
    log = await client.get(by_name["server.log"]["url"], headers=auth(reporter))
    assert log.headers["content-type"] == "text/plain; charset=utf-8"
    assert log.headers["content-disposition"].startswith("attachment;")
    forced = await client.get(
        by_name["invoice.pdf"]["url"], params={"download": 1}, headers=auth(reporter)
    )
    assert forced.headers["content-disposition"].startswith("attachment;")


async def test_names_are_made_to_match_the_detected_type(make_user, make_issue, upload):
    reporter = await make_user()
    issue = await make_issue(reporter)

    resp = await upload(
        reporter,
        issue.id,
        ("page.html.png", png_bytes()),  # fine: really a PNG
        ("picture", png_bytes()),  # no extension: gets the real one
        ("fix.bat", b"@echo off\r\ndel *.*\r\n"),  # text, but opens as text once downloaded
    )

    assert resp.status_code == 201, resp.text
    assert [i["filename"] for i in resp.json()] == ["page.html.png", "picture.png", "fix.bat.txt"]


async def test_unicode_names_round_trip_in_content_disposition(
    make_user, make_issue, upload, client, auth
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("Résumé «final» 日本.pdf", PDF))).json()

    resp = await client.get(item["url"], headers=auth(reporter))

    assert resp.headers["content-disposition"] == (
        'inline; filename="Resume final.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB%20%E6%97%A5%E6%9C%AC.pdf"
    )


async def test_conditional_get_answers_304(make_user, make_issue, upload, client, auth, storage):
    reporter = await make_user()
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("a.png", png_bytes()))).json()

    resp = await client.get(
        item["url"], headers={**auth(reporter), "If-None-Match": f'"{item["sha256"]}"'}
    )

    assert resp.status_code == 304
    assert resp.content == b""


async def test_event_payload_names_the_file(make_user, make_issue, upload, db):
    reporter = await make_user()
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("data.json", b"[]"))).json()

    event = await db.scalar(select(IssueEvent).where(IssueEvent.kind == "attachment.added"))

    assert event is not None
    assert event.actor_id == reporter.id and event.reporter_id == reporter.id
    assert json.loads(json.dumps(event.data)) == {
        "attachment": {
            "id": item["id"],
            "filename": "data.json",
            "content_type": "application/json",
            "size_bytes": 2,
        }
    }


async def test_stored_objects_match_rows(make_user, make_issue, upload, storage):
    reporter = await make_user()
    issue = await make_issue(reporter)
    items = (await upload(reporter, issue.id, ("a.txt", b"a"), ("b.txt", b"b"))).json()

    assert await storage.keys() == sorted(f"issues/{issue.id}/{i['id']}" for i in items)
