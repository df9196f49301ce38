"""Attachment queries."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.attachments.models import Attachment
from tracker.attachments.schemas import AttachmentOut
from tracker.auth.models import User
from tracker.issues.models import Issue

_COLUMNS = (
    Attachment.id,
    Attachment.issue_id,
    Attachment.uploader_id,
    User.full_name.label("uploader_name"),
    Attachment.filename,
    Attachment.content_type,
    Attachment.size_bytes,
    Attachment.sha256,
    Attachment.has_thumbnail,
    Attachment.created_at,
)


async def lock_issue(session: AsyncSession, issue_id: int) -> None:
    """Serialise uploads to one issue, so concurrent requests cannot pass the count limit."""
    await session.execute(select(Issue.id).where(Issue.id == issue_id).with_for_update())


async def count_for_issue(session: AsyncSession, issue_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.issue_id == issue_id)
    )
    return int(count or 0)


async def list_for_issue(session: AsyncSession, issue_id: int) -> list[AttachmentOut]:
    rows = await session.execute(
        select(*_COLUMNS)
        .outerjoin(User, User.id == Attachment.uploader_id)
        .where(Attachment.issue_id == issue_id)
        .order_by(Attachment.created_at, Attachment.id)
    )
    return [AttachmentOut.model_validate(row, from_attributes=True) for row in rows]


async def ids_for_issues(
    session: AsyncSession, issue_ids: list[int]
) -> list[tuple[int, uuid.UUID]]:
    if not issue_ids:
        return []
    rows = await session.execute(
        select(Attachment.issue_id, Attachment.id).where(Attachment.issue_id.in_(issue_ids))
    )
    return [(issue_id, attachment_id) for issue_id, attachment_id in rows]


async def get_with_reporter(
    session: AsyncSession, attachment_id: uuid.UUID
) -> tuple[Attachment, int] | None:
    """The attachment and its issue's reporter (whom RBAC needs), in one query."""
    row = (
        await session.execute(
            select(Attachment, Issue.reporter_id)
            .join(Issue, Issue.id == Attachment.issue_id)
            .where(Attachment.id == attachment_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def add(session: AsyncSession, attachments: list[Attachment]) -> None:
    session.add_all(attachments)
    await session.flush()


async def remove(session: AsyncSession, attachment_id: uuid.UUID) -> None:
    await session.execute(delete(Attachment).where(Attachment.id == attachment_id))


async def stored_files(session: AsyncSession) -> list[tuple[int, uuid.UUID, int, str, bool]]:
    """Every attachment as (issue id, id, size, sha256, has thumbnail), issue by issue."""
    rows = await session.execute(
        select(
            Attachment.issue_id,
            Attachment.id,
            Attachment.size_bytes,
            Attachment.sha256,
            Attachment.has_thumbnail,
        ).order_by(Attachment.issue_id, Attachment.created_at, Attachment.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]
