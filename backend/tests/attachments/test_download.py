"""Downloads answer the same on every backend: byte ranges, If-Range, large files in chunks."""

from __future__ import annotations

import hashlib

import pytest

from tests.attachments.conftest import png_bytes
from tracker.attachments.download import parse_range
from tracker.attachments.storage.interface import CHUNK_BYTES
from tracker.roles import Role

TEXT = b"".join(b"line %05d of the log\n" % n for n in range(400))  # 8,800 bytes


@pytest.fixture
async def reporter(make_user):
    return await make_user(Role.REPORTER)


@pytest.fixture
async def log_file(make_issue, reporter, upload, storage):
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("server.log", TEXT))).json()
    return item


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=8000-", 8000, len(TEXT)),
        ("bytes=-21", len(TEXT) - 21, len(TEXT)),
        ("bytes=8390-99999", 8390, len(TEXT)),  # past the end: up to the end
        ("bytes=-99999", 0, len(TEXT)),
    ],
)
async def test_a_range_is_answered_with_206_and_its_bytes(
    client, auth, reporter, log_file, spec, start, end
):
    resp = await client.get(log_file["url"], headers={**auth(reporter), "Range": spec})

    assert resp.status_code == 206, resp.text
    assert resp.content == TEXT[start:end]
    assert resp.headers["content-range"] == f"bytes {start}-{end - 1}/{len(TEXT)}"
    assert resp.headers["content-length"] == str(end - start)
    # The headers of every download, on a part of one too.
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert resp.headers["accept-ranges"] == "bytes"


async def test_a_range_past_the_end_is_416_with_the_size(client, auth, reporter, log_file):
    resp = await client.get(log_file["url"], headers={**auth(reporter), "Range": "bytes=9000-"})

    assert resp.status_code == 416
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "range_not_satisfiable"
    assert resp.headers["content-range"] == f"bytes */{len(TEXT)}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=0-1,5-6"},  # several ranges: the whole file
        {"Range": "bytes=5-1"},  # malformed: ignored
        {"Range": "items=0-1"},
        {"Range": "bytes=0-9", "If-Range": '"another-version"'},  # the client's copy is stale
    ],
)
async def test_ranges_we_do_not_serve_get_the_whole_file(client, auth, reporter, log_file, headers):
    resp = await client.get(log_file["url"], headers={**auth(reporter), **headers})

    assert resp.status_code == 200
    assert resp.content == TEXT
    assert "content-range" not in resp.headers


async def test_if_range_with_the_current_etag_gets_the_range(client, auth, reporter, log_file):
    whole = await client.get(log_file["url"], headers=auth(reporter))
    for validator in (whole.headers["etag"], whole.headers["last-modified"]):
        resp = await client.get(
            log_file["url"],
            headers={**auth(reporter), "Range": "bytes=10-19", "If-Range": validator},
        )
        assert resp.status_code == 206
        assert resp.content == TEXT[10:20]


async def test_a_thumbnail_is_served_in_ranges_too(
    client, auth, reporter, make_issue, upload, storage
):
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("shot.png", png_bytes((640, 480))))).json()
    whole = (await client.get(item["thumbnail_url"], headers=auth(reporter))).content

    part = await client.get(item["thumbnail_url"], headers={**auth(reporter), "Range": "bytes=-10"})

    assert part.status_code == 206
    assert part.content == whole[-10:]
    assert part.headers["content-type"] == "image/webp"


async def test_a_file_larger_than_a_chunk_and_a_part_round_trips(
    client, auth, reporter, make_issue, upload, storage
):
    # More than one multipart part on a bucket (8 MiB) and many download chunks.
    data = b"".join(b"%08d\n" % n for n in range(1_100_000))  # 9.9 MB, under the cap
    assert len(data) > 8 * 1024 * 1024 + CHUNK_BYTES
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("big.log", data))).json()

    resp = await client.get(item["url"], headers=auth(reporter))
    middle = await client.get(
        item["url"],
        headers={**auth(reporter), "Range": f"bytes={CHUNK_BYTES - 5}-{3 * CHUNK_BYTES}"},
    )

    assert hashlib.sha256(resp.content).hexdigest() == item["sha256"]
    assert resp.headers["content-length"] == str(len(data))
    assert middle.content == data[CHUNK_BYTES - 5 : 3 * CHUNK_BYTES + 1]
    assert await storage.keys() == [f"issues/{issue.id}/{item['id']}"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bytes=0-0", (0, 1)),
        ("bytes= 2 - 4", (2, 5)),
        ("BYTES=2-", (2, 10)),
        ("bytes=-3", (7, 10)),
        ("bytes=²-4", None),  # digits of another script
        ("bytes=-", None),
        ("bytes", None),
        ("bytes=1-2,4-5", None),
        ("bytes=99999999999999999999-", None),  # more digits than any file has bytes
    ],
)
def test_parse_range(spec, expected):
    assert parse_range(spec, 10) == expected
