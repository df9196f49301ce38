"""STORAGE_URL chooses the store; STORAGE_DIR stays the older spelling of a file:// URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tracker.attachments.storage import LocalStore, S3Store, backends, open_store, store_at
from tracker.config import Environment, Settings


def settings(**values: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        secret_key="s" * 40,
        **values,
    )


def test_unset_the_store_is_the_folder_storage_dir(tmp_path: Path) -> None:
    chosen = settings(storage_dir=tmp_path)
    store = open_store(chosen)
    assert isinstance(store, LocalStore) and store.root == tmp_path
    assert not chosen.storage_dir_overridden
    assert open_store(chosen) is store  # one per process
    assert store_at(tmp_path) is store


def test_a_file_url_is_the_folder_and_wins_over_storage_dir(tmp_path: Path) -> None:
    alone = settings(storage_url=f"file://{tmp_path}/my%20files")
    assert alone.storage_dir == tmp_path / "my files"
    assert not alone.storage_dir_overridden

    both = settings(storage_url=f"file://{tmp_path}/a", storage_dir=tmp_path / "b")
    assert both.storage_dir == tmp_path / "a"
    assert both.storage_dir_overridden
    same = settings(storage_url=f"file://{tmp_path}/a", storage_dir=tmp_path / "a")
    assert not same.storage_dir_overridden


def test_a_bucket_url_keeps_storage_dir_for_uploads_being_received_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    monkeypatch.setattr(backends.log, "info", lambda event, **_: logged.append(event))
    chosen = settings(
        storage_url="s3://attachments/tracker/prod",
        storage_dir=tmp_path,
        s3_endpoint_url="http://127.0.0.1:9",
        s3_region="us-east-1",
        s3_access_key_id="id",
        s3_secret_access_key="secret",
    )
    assert chosen.storage_dir == tmp_path
    assert chosen.storage_dir_overridden
    store = open_store(chosen)
    open_store(chosen)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("attachments", "tracker/prod")
    assert store.url == "s3://attachments/tracker/prod at http://127.0.0.1:9"
    assert "secret" not in store.url
    assert logged == ["attachment_storage", "storage_dir_overridden"]
    assert store_at(tmp_path) is store


@pytest.mark.parametrize(
    "url", ["s3://", "file://relative/path", "ftp://host/x", "/just/a/path", "file://"]
)
def test_a_storage_url_that_names_no_store_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="STORAGE_URL must be"):
        settings(storage_url=url)
