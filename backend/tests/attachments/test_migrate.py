"""`tracker storage migrate` and `tracker storage check`, run as an operator runs them: files
uploaded to the folder move to a bucket, the settings switch, and every download is the same."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.attachments.conftest import PDF, png_bytes
from tests.storage_server import ObjectServer
from tracker.attachments.service import IssueFilesInStore
from tracker.attachments.storage import open_store
from tracker.config import Environment, Settings
from tracker.roles import Role

TRACKER = str(Path(sys.executable).parent / "tracker")


async def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [TRACKER, "storage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
async def bucket_settings(
    settings: Settings, object_server: ObjectServer, tmp_path: Path
) -> AsyncIterator[Settings]:
    """The settings after the switch: the same install, its files in a bucket."""
    moved = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        storage_dir=tmp_path,
        **{k.lower(): v for k, v in object_server.environment(f"migrated-{uuid.uuid4()}").items()},
    )
    yield moved
    store = open_store(moved)
    await store.settle()
    await store.delete_prefix("")


@pytest.fixture
def cli_env(settings: Settings, bucket_settings: Settings) -> dict[str, str]:
    """The environment of `tracker` on the files' current store (the folder)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STORAGE_", "S3_", "AWS_"))
    }
    return {
        **env,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url or "",
        "SECRET_KEY": settings.secret_key,
        "STORAGE_DIR": str(settings.storage_dir),
        "S3_ENDPOINT_URL": bucket_settings.s3_endpoint_url or "",
        "S3_REGION": bucket_settings.s3_region or "",
        "S3_ACCESS_KEY_ID": bucket_settings.s3_access_key_id or "",
        "S3_SECRET_ACCESS_KEY": bucket_settings.s3_secret_access_key or "",
        "LOG_LEVEL": "WARNING",
    }


async def test_files_move_from_the_folder_to_a_bucket_and_download_the_same(
    app: FastAPI,
    client,
    auth,
    make_user,
    make_issue,
    upload,
    settings: Settings,
    bucket_settings: Settings,
    cli_env: dict[str, str],
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue, other = await make_issue(reporter), await make_issue(reporter)
    items = (await upload(reporter, issue.id, ("shot.png", png_bytes()), ("a.pdf", PDF))).json()
    items += (await upload(reporter, other.id, ("notes.txt", b"some notes\n"))).json()
    urls = [i["url"] for i in items] + [items[0]["thumbnail_url"]]
    before = {url: (await client.get(url, headers=auth(reporter))).content for url in urls}
    target = bucket_settings.storage_url or ""

    first = await run(cli_env, "migrate", "--to", target)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(" copied issues/") == 4  # three files and a thumbnail
    assert "4 copied" in first.stderr

    # Resumable: what is there with the same size and checksum stays; a damaged copy of the
    # same size is copied again.
    bucket = open_store(bucket_settings)
    damaged = f"issues/{other.id}/{items[2]['id']}"
    await bucket.put(damaged, _chunks(b"SOME NOTES\n"))
    again = await run(cli_env, "migrate", "--to", target)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count(" present issues/") == 3
    assert f"copied {damaged}" in again.stderr

    # The switch: STORAGE_URL names the bucket now.
    app.state.attachment_store = bucket
    app.state.issue_files = IssueFilesInStore(bucket_settings, bucket)
    try:
        for url, content in before.items():
            resp = await client.get(url, headers=auth(reporter))
            assert resp.status_code == 200, (url, resp.text)
            assert resp.content == content, url
    finally:
        app.state.attachment_store = open_store(settings)
        app.state.issue_files = IssueFilesInStore(settings, app.state.attachment_store)

    checked = await run(cli_env, "check", "--url", target)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "4 objects expected, 0 missing, 0 of the wrong size, 0 without a row" in checked.stderr


async def test_check_reports_a_missing_object_and_one_without_a_row(
    app: FastAPI,
    make_user,
    make_issue,
    upload,
    settings: Settings,
    cli_env: dict[str, str],
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter)
    [kept, lost] = (await upload(reporter, issue.id, ("a.txt", b"a"), ("b.txt", b"b"))).json()
    store = app.state.attachment_store
    await store.delete([f"issues/{issue.id}/{lost['id']}"])
    stray = f"issues/{issue.id}/{uuid.uuid4()}"
    await store.put(stray, _chunks(b"left behind"))

    checked = await run(cli_env, "check")

    said = checked.stdout + checked.stderr
    assert checked.returncode == 1, said
    assert f"missing: issues/{issue.id}/{lost['id']}" in checked.stdout, said
    assert f"without a row: {stray}" in checked.stdout, said
    assert f"issues/{issue.id}/{kept['id']}" not in checked.stdout, said
    assert "2 objects expected, 1 missing" in checked.stderr, said


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data
