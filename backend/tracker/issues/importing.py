"""Issues as an import writes them (tracker.imports): filed with their original creation time
and the id they had elsewhere, or updated when that id is found again. Each gets an
`issue.imported` event, the same history and live update as any other change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import record_event
from tracker.issues import tags
from tracker.issues.columns import ISSUES, tags_of
from tracker.issues.models import Severity, Status
from tracker.markdown import render_markdown_off_loop

_i = ISSUES.c


async def existing_by_external_id(
    session: AsyncSession, external_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The issues already carrying these external ids, with what an import may change."""
    if not external_ids:
        return {}
    rows = await session.execute(
        select(
            _i.id,
            _i.external_id,
            _i.title,
            _i.description,
            _i.severity,
            _i.status,
            _i.assignee_id,
            _i.reporter_id,
            tags_of(_i.id).label("tags"),
        ).where(_i.external_id.in_(sorted(set(external_ids))))
    )
    return {row.external_id: dict(row._mapping) for row in rows}


async def insert_imported(
    session: AsyncSession,
    values: dict[str, Any],
    *,
    reporter_id: int,
    importer_id: int | None,
    import_id: int,
) -> int:
    status = values["status"] or Status.OPEN
    created_at: datetime | None = values["created_at"]
    when = created_at if created_at is not None else func.now()
    issue_id: int = (
        await session.execute(
            insert(ISSUES)
            .values(
                title=values["title"],
                description=values["description"],
                description_html=await render_markdown_off_loop(values["description"]),
                severity=values["severity"] or Severity.MEDIUM,
                status=status,
                reporter_id=reporter_id,
                assignee_id=values["assignee_id"],
                external_id=values["external_id"],
                created_at=when,
                updated_at=func.now(),
                resolved_at=func.now() if status == Status.DONE else None,
            )
            .returning(_i.id)
        )
    ).scalar_one()
    if values["tags"]:
        await tags.set_issue_tags(
            session, issue_id, await tags.ensure_tags(session, values["tags"])
        )
    await record_event(
        session,
        issue_id=issue_id,
        reporter_id=reporter_id,
        actor_id=importer_id,
        kind="issue.imported",
        data={
            "import_id": import_id,
            "title": values["title"],
            "external_id": values["external_id"],
        },
    )
    return issue_id


async def update_imported(
    session: AsyncSession,
    issue_id: int,
    values: dict[str, Any],
    *,
    reporter_id: int,
    importer_id: int | None,
    import_id: int,
) -> None:
    """The fields the file gives, over what the issue has (its reporter and creation time stay)."""
    changed: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "description_html": await render_markdown_off_loop(values["description"]),
        "assignee_id": values["assignee_id"],
        "version": _i.version + 1,
        "updated_at": func.now(),
    }
    if values["severity"]:
        changed["severity"] = values["severity"]
    if values["status"]:
        changed["status"] = values["status"]
        changed["resolved_at"] = func.now() if values["status"] == Status.DONE else None
    await session.execute(update(ISSUES).where(_i.id == issue_id).values(**changed))
    await tags.set_issue_tags(session, issue_id, await tags.ensure_tags(session, values["tags"]))
    await record_event(
        session,
        issue_id=issue_id,
        reporter_id=reporter_id,
        actor_id=importer_id,
        kind="issue.imported",
        data={"import_id": import_id, "updated": True, "external_id": values["external_id"]},
    )
