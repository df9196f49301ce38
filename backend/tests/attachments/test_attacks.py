"""Every attack on uploads and downloads gets a clear 4xx, and nothing is left in the store (a
folder or a bucket) or in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select

from tests.attachments.conftest import png_bytes, png_claiming
from tracker.activity.models import IssueEvent
from tracker.attachments.models import Attachment
from tracker.issues.models import Issue
from tracker.roles import Role

BOUNDARY = "tracker-test-boundary"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>fetch('/api/users/me').then(r => r.text()).then(alert)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>document.location='//evil.example'</script>"


async def rows(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Attachment)) or 0)


async def events(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(IssueEvent)) or 0)


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


@pytest.fixture
async def reporter(make_user):
    return await make_user(Role.REPORTER)


@pytest.fixture
async def issue(make_issue, reporter):
    return await make_issue(reporter)


async def test_file_over_the_cap_with_a_lying_content_length_is_cut_off_while_reading(
    client, auth, reporter, issue, settings, storage, db
):
    cap = settings.max_upload_bytes
    sent = 0
    chunk = b"A" * 64 * 1024
    total_chunks = (cap // len(chunk)) * 3  # three times the cap, if we were fool enough to read it

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.log"'
            "\r\nContent-Type: text/plain\r\n\r\n"
        ).encode()
        yield head
        for _ in range(total_chunks):
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    resp = await client.post(
        f"/api/issues/{issue.id}/attachments",
        content=body(),
        headers={
            **auth(reporter),
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": "1024",  # the lie
        },
    )

    body_json = problem(resp, 413, "file_too_large")
    assert body_json["max_bytes"] == cap
    assert "10 MB" in body_json["detail"]
    # Refused the moment the cap was passed, not after reading everything.
    assert sent <= cap + 2 * len(chunk)
    await storage.assert_empty()
    assert await rows(db) == 0


async def test_file_over_the_cap_sent_chunked_without_content_length(
    client, auth, reporter, issue, settings, storage, db, monkeypatch
):
    monkeypatch.setattr(settings, "max_upload_bytes", 1000)

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        ).encode()
        yield b"x" * 1001
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    resp = await client.post(
        f"/api/issues/{issue.id}/attachments",
        content=body(),
        headers={**auth(reporter), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )

    problem(resp, 413, "file_too_large")
    await storage.assert_empty()
    assert await rows(db) == 0


async def test_exactly_at_the_cap_is_accepted(
    upload, reporter, issue, settings, monkeypatch, storage
):
    monkeypatch.setattr(settings, "max_upload_bytes", 1000)
    resp = await upload(reporter, issue.id, ("exact.txt", b"x" * 1000))
    assert resp.status_code == 201, resp.text
    assert len(await storage.keys()) == 1


@pytest.mark.parametrize(
    ("name", "data", "detected"),
    [
        ("cute-cat.png", ELF, "application/x-executable"),
        ("cute-cat.png", PE, "application/x-msdownload"),
        ("report.pdf", b"PK\x03\x04" + b"\x00" * 100, "application/zip"),
        ("drawing.svg", SVG, "image/svg+xml"),
        ("innocent.png", SVG, "image/svg+xml"),  # SVG content under an image name
        ("page.html", HTML, "text/html"),
        ("notes.txt", b"  \n" + HTML, "text/html"),  # HTML content under a text name
        ("hello.html", b"hello", "text/html"),  # a name that opens in a browser once saved
        ("feed.xml", b"<?xml version='1.0'?><rss/>", "application/xml"),
        ("blob.bin", b"\x00\x01\x02\x03binary\xff\xfe", "application/octet-stream"),
        ("latin1.txt", "café".encode("latin-1"), "application/octet-stream"),
    ],
)
async def test_files_we_do_not_accept_get_415_naming_the_detected_type(
    upload, reporter, issue, storage, db, name, data, detected
):
    resp = await upload(reporter, issue.id, ("ok.png", png_bytes()), (name, data))

    body = problem(resp, 415, "file_type_not_allowed")
    assert body["detected_type"] == detected
    assert "image/png" in body["allowed_types"]
    assert "PNG, JPEG, GIF, WebP, PDF" in body["detail"] or detected == "application/octet-stream"
    # The acceptable file sent along is not kept either: the request is all or nothing.
    await storage.assert_empty()
    assert await rows(db) == 0
    assert await events(db) == 0


# As in production (images.py): Pillow's bomb warning is an error, whatever pytest configures.
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.txt", b"", "empty_file"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "corrupt_image"),
        ("bomb.png", png_claiming(20_000, 20_000), "image_too_large"),
        ("big.png", png_claiming(8_000, 8_000), "image_too_large"),
        ("data.json", b'{"unterminated": ', "invalid_json"),
    ],
)
async def test_unusable_files_get_422(upload, reporter, issue, storage, db, name, data, code):
    resp = await upload(reporter, issue.id, (name, data))

    problem(resp, 422, code)
    await storage.assert_empty()
    assert await rows(db) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../../../etc/passwd.txt", "passwd.txt"),
        ("/etc/cron.d/evil.txt", "evil.txt"),
        ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
        ("C:\\Users\\me\\Desktop\\shot.png", "shot.png"),
        ("..", "file"),
        ("../", "file"),
        ("", "file"),
    ],
)
async def test_path_parts_in_names_are_dropped_and_never_reach_the_disk(
    upload, reporter, issue, storage, sent, stored
):
    data = png_bytes() if stored.endswith(".png") else b"harmless text\n"

    resp = await upload(reporter, issue.id, (sent, data))

    assert resp.status_code == 201, resp.text
    [item] = resp.json()
    assert item["filename"] == stored
    for key in await storage.keys(""):
        folder, name = key.rsplit("/", 1)
        assert folder == f"issues/{issue.id}"
        assert name in {item["id"], f"{item['id']}.thumb.webp"}
    assert storage.receiving() == []


async def test_control_and_unicode_characters_in_names_are_normalised(
    upload, reporter, issue, client, auth
):
    # Decomposed "é" (e + U+0301), a right-to-left override hiding ".exe", CR/LF header
    # injection, NUL, a tab and an overlong name.
    sent = "Cafe\u0301\u202egnp.exe\r\nX-Evil: 1\x00\tlog" + "é" * 300 + ".txt"

    resp = await upload(reporter, issue.id, (sent, b"text\n"))

    assert resp.status_code == 201, resp.text
    name = resp.json()[0]["filename"]
    assert name.startswith("Café")  # NFC: one code point
    assert "\u0301" not in name and "\u202e" not in name
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    assert name.endswith(".txt")
    assert len(name.encode()) <= 255
    download = await client.get(resp.json()[0]["url"], headers=auth(reporter))
    assert "\r" not in download.headers["content-disposition"]
    assert "x-evil" not in download.headers


async def test_too_many_files_in_one_request(
    upload, reporter, issue, settings, monkeypatch, storage, db
):
    monkeypatch.setattr(settings, "max_attachments_per_issue", 2)

    resp = await upload(reporter, issue.id, ("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c"))

    problem(resp, 422, "too_many_files")
    await storage.assert_empty()
    assert await rows(db) == 0


async def test_too_many_files_on_the_issue(
    upload, reporter, issue, settings, monkeypatch, storage, db
):
    monkeypatch.setattr(settings, "max_attachments_per_issue", 2)
    assert (await upload(reporter, issue.id, ("a.txt", b"a"))).status_code == 201
    kept = await storage.keys()

    resp = await upload(reporter, issue.id, ("b.txt", b"b"), ("c.txt", b"c"))
    body = problem(resp, 409, "too_many_attachments")
    assert body["existing"] == 1
    assert (await upload(reporter, issue.id, ("b.txt", b"b"))).status_code == 201
    full = await upload(reporter, issue.id, ("d.txt", b"d"))

    problem(full, 409, "too_many_attachments")
    now = await storage.keys()
    assert len(now) == 2 and kept[0] in now
    assert await rows(db) == 2


async def test_download_by_another_reporter_is_404(
    make_user, upload, reporter, issue, client, auth
):
    [item] = (await upload(reporter, issue.id, ("mine.png", png_bytes()))).json()
    stranger = await make_user(Role.REPORTER)

    for path in (item["url"], item["thumbnail_url"]):
        problem(await client.get(path, headers=auth(stranger)), 404, "attachment_not_found")
    problem(
        await client.get(f"/api/issues/{issue.id}/attachments", headers=auth(stranger)),
        404,
        "issue_not_found",
    )
    problem(await client.delete(item["url"], headers=auth(stranger)), 404, "attachment_not_found")
    maintainer = await make_user(Role.MAINTAINER)
    assert (await client.get(item["url"], headers=auth(maintainer))).status_code == 200


async def test_upload_by_another_reporter_is_404_without_reading_the_body(
    make_user, reporter, issue, client, auth, storage
):
    stranger = await make_user(Role.REPORTER)
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(100):
            read += 1
            yield b"x" * 65536

    resp = await client.post(
        f"/api/issues/{issue.id}/attachments",
        content=body(),
        headers={**auth(stranger), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )

    problem(resp, 404, "issue_not_found")
    assert read <= 1
    await storage.assert_empty()


async def test_anonymous_requests_are_401(client, upload, reporter, issue):
    [item] = (await upload(reporter, issue.id, ("a.txt", b"a"))).json()
    assert (await client.get(item["url"])).status_code == 401
    resp = await client.post(
        f"/api/issues/{issue.id}/attachments", files=[("file", ("b.txt", b"b"))]
    )
    assert resp.status_code == 401


async def test_download_after_the_issue_was_deleted_is_404(
    upload, reporter, issue, client, auth, db, make_user
):
    [item] = (await upload(reporter, issue.id, ("a.png", png_bytes()))).json()
    await db.execute(delete(Issue).where(Issue.id == issue.id))
    await db.commit()
    admin = await make_user(Role.ADMIN)

    for user in (reporter, admin):
        problem(await client.get(item["url"], headers=auth(user)), 404, "attachment_not_found")
        problem(
            await client.get(item["thumbnail_url"], headers=auth(user)),
            404,
            "attachment_not_found",
        )


async def test_malformed_and_non_multipart_bodies_are_4xx(client, auth, reporter, issue, storage):
    url = f"/api/issues/{issue.id}/attachments"
    not_multipart = await client.post(url, json={"file": "x"}, headers=auth(reporter))
    problem(not_multipart, 422, "multipart_required")
    truncated = await client.post(
        url,
        content=(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"'
            "\r\n\r\nhalf a fi"
        ).encode(),
        headers={**auth(reporter), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    problem(truncated, 400, "incomplete_body")
    no_files = await client.post(
        url, data={"note": "hello"}, files=[("file", ("", b""))], headers=auth(reporter)
    )
    problem(no_files, 422, "no_files")
    wrong_field = await client.post(
        url, files=[("attachment", ("a.txt", b"a"))], headers=auth(reporter)
    )
    problem(wrong_field, 422, "unexpected_file")
    await storage.assert_empty()
