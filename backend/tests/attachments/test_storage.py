"""The storage interface itself, on a folder and on a bucket: streams past the cap or failing
half-way keep nothing, listings and removals by prefix, and the readiness check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.storage_server import ObjectServer
from tracker.attachments.storage import ObjectTooLarge, S3Store, StorageError
from tracker.localdb import free_port

MB = 1024 * 1024


async def stream(total: int, *, fail_after: int | None = None) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        if fail_after is not None and sent >= fail_after:
            raise ConnectionResetError("the client went away")
        chunk = b"x" * min(MB, total - sent)
        sent += len(chunk)
        yield chunk


@pytest.mark.parametrize("total", [100, 12 * MB], ids=["one-put", "multipart"])
async def test_a_stream_past_the_cap_keeps_nothing(storage, object_server, total):
    with pytest.raises(ObjectTooLarge):
        await storage.store.put("issues/1/big", stream(total), max_bytes=total - 1)

    assert await storage.keys() == []
    assert storage.receiving() == []
    if storage.kind == "s3":
        assert object_server.incomplete_uploads() == []  # the multipart upload was aborted


@pytest.mark.parametrize("fail_after", [0, 10 * MB], ids=["at-once", "after-a-part"])
async def test_a_stream_that_fails_half_way_keeps_nothing(storage, object_server, fail_after):
    with pytest.raises(ConnectionResetError):
        await storage.store.put("issues/1/cut", stream(20 * MB, fail_after=fail_after))

    assert await storage.keys() == []
    assert storage.receiving() == []
    if storage.kind == "s3":
        assert object_server.incomplete_uploads() == []


async def test_put_replaces_and_reports_the_size(storage):
    assert await storage.store.put("issues/1/a", stream(10)) == 10
    assert await storage.store.put("issues/1/a", stream(3 * MB)) == 3 * MB

    info = await storage.store.stat("issues/1/a")
    assert info is not None and info.size == 3 * MB and info.modified.tzinfo is not None
    assert await storage.store.stat("issues/1/nothing") is None


async def test_listing_and_removing_by_prefix_keep_to_the_prefix(storage):
    for key in ("issues/1/a", "issues/1/a.thumb.webp", "issues/10/b", "issues/2/c"):
        await storage.store.put(key, stream(5))

    listed = sorted([i.key async for i in storage.store.list_prefix("issues/1/")])
    assert listed == ["issues/1/a", "issues/1/a.thumb.webp"]
    assert await storage.store.delete_prefix("issues/1/") == 2
    await storage.store.delete(["issues/2/c", "issues/2/never-was"])
    assert await storage.keys() == ["issues/10/b"]


async def test_the_readiness_check_passes_when_the_store_answers(storage, client):
    await storage.store.check()
    resp = await client.get("/readyz")
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("where", ["missing-bucket", "nothing-listening"])
async def test_readyz_fails_when_the_bucket_cannot_be_reached(
    app, client: httpx.AsyncClient, object_server: ObjectServer, where
):
    store = object_server.store()
    endpoint = object_server.endpoint
    if where == "nothing-listening":
        endpoint = f"http://127.0.0.1:{free_port()}"
    store = S3Store(
        "no-such-bucket" if where == "missing-bucket" else object_server.bucket,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="k",
        secret_access_key="s",
    )
    with pytest.raises(StorageError):
        await store.check()
    saved = app.state.attachment_store
    app.state.attachment_store = store
    try:
        resp = await client.get("/readyz")
    finally:
        app.state.attachment_store = saved

    assert resp.status_code == 503
    assert resp.json()["code"] == "storage_unavailable"
