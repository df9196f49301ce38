"""Attaching, listing, serving and deleting files of an issue.

Every file is checked completely (type from content, images decoded) before any is stored, so a
refused request leaves nothing behind; stored objects and rows then share the request's
transaction through the storage journal (storage/journal.py). Where the objects are is the
store's business (a folder or a bucket, storage/): this module only names keys.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import record_event
from tracker.attachments import repository, storage
from tracker.attachments.content import INLINE_TYPES, Detected, detect
from tracker.attachments.filenames import content_disposition, normalize_filename
from tracker.attachments.images import make_thumbnail
from tracker.attachments.models import Attachment
from tracker.attachments.schemas import AttachmentOut
from tracker.auth.models import User
from tracker.config import Settings
from tracker.errors import Conflict, NotFound, PayloadTooLarge, ServiceUnavailable, Unprocessable
from tracker.issues.models import Issue
from tracker.multipart import ReceivedFile, new_upload_path


class IssueKey(Protocol):
    """What attaching needs of an issue: an `Issue` row, or an `IssueRef` for one just made."""

    @property
    def id(self) -> int: ...

    @property
    def reporter_id(self) -> int: ...


@dataclass(frozen=True)
class IssueRef:
    id: int
    reporter_id: int


@dataclass(frozen=True)
class IssueFilesInStore:
    """The issues domain's `IssueFiles` (tracker.issues.files): an issue's files are its
    attachments, kept in the attachment store. Made by the composition root."""

    settings: Settings
    store: storage.ObjectStore

    async def store_with_new_issue(
        self, session: AsyncSession, issue_id: int, reporter: User, files: Sequence[ReceivedFile]
    ) -> int:
        issue = IssueRef(id=issue_id, reporter_id=reporter.id)
        added = await add_uploads(
            session, issue, list(files), reporter, settings=self.settings, store=self.store
        )
        return len(added)

    async def remove_after_deletion(self, session: AsyncSession, issue_id: int) -> None:
        await delete_issue_files(session, issue_id, store=self.store)


@dataclass(frozen=True)
class _Checked:
    upload: ReceivedFile
    detected: Detected
    thumbnail_tmp: Path | None


@dataclass(frozen=True)
class FileToServe:
    key: str
    content_type: str
    etag: str
    disposition: str
    modified: datetime


def _check(upload: ReceivedFile, storage_dir: Path) -> _Checked:
    """Blocking: flush the file to disk, detect its type, decode and thumbnail images (the
    thumbnail is made in STORAGE_DIR/tmp, beside the received file)."""
    with upload.path.open("rb") as f:
        os.fsync(f.fileno())  # the row will promise the file exists; make it so after a crash
    detected = detect(upload.path, normalize_filename(upload.filename))
    thumbnail_tmp = None
    if detected.is_image:
        thumbnail_tmp = new_upload_path(storage_dir)
        if not make_thumbnail(upload.path, thumbnail_tmp, detected.content_type, detected.filename):
            thumbnail_tmp.unlink(missing_ok=True)
            thumbnail_tmp = None
    return _Checked(upload, detected, thumbnail_tmp)


async def add_uploads(
    session: AsyncSession,
    issue: IssueKey,
    uploads: list[ReceivedFile],
    user: User,
    *,
    settings: Settings,
    store: storage.ObjectStore,
) -> list[AttachmentOut]:
    """Attach received files to an issue in the current transaction.

    Raises 409 past the per-issue limit, 413/415/422 for a file we refuse (then nothing is
    kept). Files are stored once this returns and disappear again unless the transaction
    commits. The caller owns the temporary files (`ReceivedForm.discard()` afterwards).
    """
    if not uploads:
        return []
    await repository.lock_issue(session, issue.id)
    existing = await repository.count_for_issue(session, issue.id)
    limit = settings.max_attachments_per_issue
    if existing + len(uploads) > limit:
        raise Conflict(
            f"An issue can have at most {limit} files; this one has {existing}",
            code="too_many_attachments",
            max_attachments=limit,
            existing=existing,
        )
    checked: list[_Checked] = []
    try:
        for upload in uploads:
            if upload.size > settings.max_upload_bytes:  # a caller that did not stream-check
                raise PayloadTooLarge(
                    f"{upload.filename} is larger than the upload limit", code="file_too_large"
                )
            if upload.size == 0:
                raise Unprocessable(f"{upload.filename} is empty", code="empty_file")
            checked.append(await to_thread.run_sync(_check, upload, settings.storage_dir))

        rows: list[Attachment] = []
        # A microsecond apart, so the list keeps the order in which the files were sent.
        now = datetime.now(UTC)
        for position, item in enumerate(checked):
            row = Attachment(
                id=uuid.uuid4(),
                issue_id=issue.id,
                uploader_id=user.id,
                filename=item.detected.filename,
                content_type=item.detected.content_type,
                size_bytes=item.upload.size,
                sha256=item.upload.sha256,
                has_thumbnail=item.thumbnail_tmp is not None,
                created_at=now + timedelta(microseconds=position),
            )
            key = storage.file_key(issue.id, row.id)
            await storage.put_file(session, store, key, item.upload.path)
            if item.thumbnail_tmp is not None:
                thumb = storage.thumbnail_key(issue.id, row.id)
                await storage.put_file(session, store, thumb, item.thumbnail_tmp)
            rows.append(row)
        await repository.add(session, rows)
        for row in rows:
            await record_event(
                session,
                issue_id=issue.id,
                reporter_id=issue.reporter_id,
                actor_id=user.id,
                kind="attachment.added",
                data={"attachment": _summary(row)},
            )
    finally:
        for item in checked:  # thumbnails made but not stored (a later file was refused)
            if item.thumbnail_tmp is not None:
                item.thumbnail_tmp.unlink(missing_ok=True)
    return [
        AttachmentOut.model_validate(row).model_copy(update={"uploader_name": user.full_name})
        for row in rows
    ]


async def attach_files(
    session: AsyncSession,
    issue: Issue,
    uploads: list[ReceivedFile],
    user: User,
    *,
    settings: Settings,
    store: storage.ObjectStore,
) -> list[AttachmentOut]:
    """POST /issues/{id}/attachments: like add_uploads, but a request without files is an error."""
    if not uploads:
        raise Unprocessable("Choose at least one file to attach", code="no_files")
    return await add_uploads(session, issue, uploads, user, settings=settings, store=store)


async def list_attachments(session: AsyncSession, issue: Issue) -> list[AttachmentOut]:
    return await repository.list_for_issue(session, issue.id)


def file_to_serve(
    attachment: Attachment, *, thumbnail: bool = False, download: bool = False
) -> FileToServe:
    """What to send for an attachment (or its thumbnail); download.serve() sends it."""
    if thumbnail:
        if not attachment.has_thumbnail:
            raise NotFound("This attachment has no thumbnail", code="thumbnail_not_found")
        key = storage.thumbnail_key(attachment.issue_id, attachment.id)
        content_type, etag, inline = "image/webp", f'"{attachment.sha256}-thumb"', True
        name = f"{attachment.filename.rsplit('.', 1)[0]}.thumb.webp"
    else:
        key = storage.file_key(attachment.issue_id, attachment.id)
        content_type, etag = attachment.content_type, f'"{attachment.sha256}"'
        inline = attachment.content_type in INLINE_TYPES and not download
        name = attachment.filename
    disposition = content_disposition(name, inline=inline)
    return FileToServe(key, content_type, etag, disposition, attachment.created_at)


async def delete_attachment(
    session: AsyncSession,
    attachment: Attachment,
    reporter_id: int,
    user: User,
    *,
    store: storage.ObjectStore,
) -> None:
    await repository.remove(session, attachment.id)
    await record_event(
        session,
        issue_id=attachment.issue_id,
        reporter_id=reporter_id,
        actor_id=user.id,
        kind="attachment.deleted",
        data={"attachment": _summary(attachment)},
    )
    await storage.delete_after_commit(
        session,
        store,
        storage.file_key(attachment.issue_id, attachment.id),
        storage.thumbnail_key(attachment.issue_id, attachment.id),
    )


async def delete_issue_files(
    session: AsyncSession, issue_id: int, *, store: storage.ObjectStore
) -> None:
    """For DELETE /issues/{id}: the issue's objects go once the deletion has committed.

    The rows go with the issue (ON DELETE CASCADE); call this in the same transaction.
    """
    await storage.delete_prefix_after_commit(session, store, storage.issue_prefix(issue_id))


async def check_storage(store: storage.ObjectStore) -> None:
    """For /readyz: 503 unless the attachment store answers."""
    try:
        await store.check()
    except storage.StorageError as exc:
        raise ServiceUnavailable(
            f"Attachment storage unreachable: {exc}", code="storage_unavailable"
        ) from exc


async def attachment_ids_by_issue(
    session: AsyncSession, issue_ids: Collection[int]
) -> dict[int, set[uuid.UUID]]:
    """For the orphan sweep: the attachments that exist for each of these issues (every id
    is a key, with an empty set when the issue has none or is gone)."""
    owned: dict[int, set[uuid.UUID]] = {issue_id: set() for issue_id in issue_ids}
    for issue_id, attachment_id in await repository.ids_for_issues(session, list(owned)):
        owned[issue_id].add(attachment_id)
    return owned


def _summary(row: Attachment) -> dict[str, object]:
    return {
        "id": str(row.id),
        "filename": row.filename,
        "content_type": row.content_type,
        "size_bytes": row.size_bytes,
    }
