"""Imports: a file checked and queued by the API, run whole by the worker.

The worker's transaction holds every row of an import and commits once (an import goes in
whole or not at all); its progress is written and announced on a second connection as it
goes, so GET /api/imports/{id} and the `import:<id>` channel show it live.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import undefer

from tracker.auth.accounts import create_user
from tracker.auth.models import User
from tracker.errors import NotFound, TrackerError
from tracker.imports import parsing
from tracker.imports.models import Import, ImportState, OnError, UnknownPeople
from tracker.imports.parsing import FileRefused
from tracker.imports.rows import Plan, plan_rows
from tracker.imports.schemas import DryRunReport, ImportOut, RefusedRow
from tracker.issues.importing import insert_imported, update_imported
from tracker.observability.logging import get_logger
from tracker.roles import Role

log = get_logger("tracker.imports")

NOTIFY_CHANNEL = "tracker_imports"
PROGRESS_EVERY = 100
# A running import whose worker has said nothing for this long is taken up again.
STALE_SECONDS = 120


class ImportRefused(TrackerError):
    """A file the API will not queue: its status and code say why."""

    def __init__(self, refused: FileRefused) -> None:
        super().__init__(refused.detail, code=refused.code)
        self.status = refused.status


def _parse(source: bytes, fmt: str, mapping: dict[str, str]) -> parsing.Parsed:
    try:
        return parsing.parse(source, fmt, mapping)
    except FileRefused as refused:
        raise ImportRefused(refused) from None


def _report(plan: Plan, parsed: parsing.Parsed) -> DryRunReport:
    return DryRunReport(
        rows=len(parsed.rows),
        create=plan.count("create"),
        update=plan.count("update"),
        unchanged=plan.count("unchanged"),
        refused=plan.refused,
        refusals=[RefusedRow(**r) for r in plan.refusals],
        new_reporters=len(plan.new_people),
        ignored_columns=parsed.ignored,
    )


async def dry_run(
    session: AsyncSession,
    source: bytes,
    fmt: str,
    mapping: dict[str, str],
    unknown_reporters: UnknownPeople,
) -> DryRunReport:
    parsed = _parse(source, fmt, mapping)
    plan = await plan_rows(
        session, parsed.rows, create_unknown=unknown_reporters == UnknownPeople.CREATE
    )
    return _report(plan, parsed)


def out(row: Import) -> ImportOut:
    return ImportOut(
        id=row.id,
        state=row.state,
        filename=row.filename,
        format=row.format,
        on_error=row.on_error,
        unknown_reporters=row.unknown_reporters,
        total_rows=row.total_rows,
        processed_rows=row.processed_rows,
        created=row.created_count,
        updated=row.updated_count,
        unchanged=row.unchanged_count,
        refused=row.refused_count,
        refusals=[RefusedRow(**r) for r in row.refusals or []],
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


async def queue(
    session: AsyncSession,
    user: User,
    *,
    source: bytes,
    filename: str,
    fmt: str,
    mapping: dict[str, str],
    on_error: OnError,
    unknown_reporters: UnknownPeople,
) -> ImportOut:
    parsed = _parse(source, fmt, mapping)  # a file that cannot be read is refused now
    row = Import(
        created_by_id=user.id,
        state=ImportState.QUEUED,
        format=fmt,
        filename=filename[:255],
        on_error=on_error,
        unknown_reporters=unknown_reporters,
        mapping=mapping,
        source=source,
        total_rows=len(parsed.rows),
        refusals=[],
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return out(row)


async def get_import(session: AsyncSession, user: User, import_id: int) -> ImportOut:
    row = await visible_import(session, user.id, user.role, import_id)
    if row is None:
        raise NotFound(f"Import {import_id} not found", code="import_not_found")
    return out(row)


async def visible_import(
    session: AsyncSession, user_id: int, role: Role, import_id: int
) -> Import | None:
    """The import, if this person may follow it: who started it, or an ADMIN."""
    row = await session.get(Import, import_id)
    if row is None or not (row.created_by_id == user_id or role == Role.ADMIN):
        return None
    return row


async def list_imports(session: AsyncSession, user: User, limit: int = 20) -> list[ImportOut]:
    stmt = select(Import).order_by(Import.id.desc()).limit(limit)
    if user.role != Role.ADMIN:
        stmt = stmt.where(Import.created_by_id == user.id)
    return [out(row) for row in await session.scalars(stmt)]


# ---- the worker ------------------------------------------------------------------------------


def _progress_payload(import_id: int, state: str, **counts: int) -> str:
    return json.dumps({"id": import_id, "state": state, **counts})


async def _announce(conn: AsyncConnection | AsyncSession, payload: str) -> None:
    await conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))


async def _claim(session: AsyncSession) -> Import | None:
    stale = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, STALE_SECONDS)
    candidate = (
        select(Import.id)
        .where(
            (Import.state == ImportState.QUEUED)
            | ((Import.state == ImportState.RUNNING) & (Import.heartbeat_at < stale))
        )
        .order_by(Import.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.scalar(
        update(Import)
        .where(Import.id == candidate)
        .values(
            state=ImportState.RUNNING,
            started_at=func.now(),
            heartbeat_at=func.now(),
            processed_rows=0,
        )
        .returning(Import.id)
    )
    await session.commit()  # claimed, before the long work starts
    if claimed is None:
        return None
    return await session.scalar(
        select(Import)
        .where(Import.id == claimed)
        .options(undefer(Import.source))
        .execution_options(populate_existing=True)
    )


async def _finish(session: AsyncSession, import_id: int, state: ImportState, **values: Any) -> None:
    await session.execute(
        update(Import)
        .where(Import.id == import_id)
        .values(state=state, finished_at=func.now(), heartbeat_at=func.now(), source=None, **values)
    )
    counts = {k: v for k, v in values.items() if k.endswith("_count") or k in ("processed_rows",)}
    await _announce(session, _progress_payload(import_id, state.value, **counts))


async def _reporters(session: AsyncSession, plan: Plan) -> dict[str, int]:
    """Inactive REPORTERs for the addresses the import asked to create."""
    made: dict[str, int] = {}
    for email in sorted(plan.new_people):
        user = await create_user(
            session, email=email, password=None, full_name=email.split("@")[0], role=Role.REPORTER
        )
        user.is_active = False
        made[email] = user.id
    await session.flush()
    return made


async def _apply(
    session: AsyncSession, progress: AsyncConnection, row: Import, plan: Plan
) -> dict[str, int]:
    made = await _reporters(session, plan)
    importer = row.created_by_id
    counts = {"created_count": 0, "updated_count": 0, "unchanged_count": 0}
    for done, step in enumerate(plan.rows, start=1):
        values = step.values
        email = values.pop("reporter_email", None)
        reporter = values["reporter_id"] or (made.get(email) if email else None) or importer
        if reporter is None:  # the importer's account is gone
            raise FileRefused(409, "importer_gone", "The person who started the import is gone")
        if step.action == "create":
            await insert_imported(
                session, values, reporter_id=reporter, importer_id=importer, import_id=row.id
            )
            counts["created_count"] += 1
        elif step.action == "update":
            assert step.issue_id is not None
            await update_imported(
                session,
                step.issue_id,
                values,
                reporter_id=reporter,
                importer_id=importer,
                import_id=row.id,
            )
            counts["updated_count"] += 1
        else:
            counts["unchanged_count"] += 1
        if done % PROGRESS_EVERY == 0:
            await _heartbeat(progress, row.id, done, len(plan.rows) + plan.refused)
    return counts


async def _heartbeat(conn: AsyncConnection, import_id: int, processed: int, total: int) -> None:
    await conn.execute(
        update(Import)
        .where(Import.id == import_id)
        .values(processed_rows=processed, heartbeat_at=func.now())
    )
    await _announce(
        conn,
        _progress_payload(
            import_id, ImportState.RUNNING.value, processed_rows=processed, total_rows=total
        ),
    )


async def run_next_import(session: AsyncSession) -> dict[str, int]:
    """Claim the oldest queued import and run it whole; {} when none is waiting."""
    row = await _claim(session)
    if row is None:
        return {}
    import_id = row.id
    bind = session.bind
    async with bind.connect() as raw:  # type: ignore[union-attr]
        progress = await raw.execution_options(isolation_level="AUTOCOMMIT")
        try:
            return await _run(session, progress, row)
        except Exception as exc:
            await session.rollback()
            log.error("import_failed", import_id=import_id, error=repr(exc), exc_info=exc)
            await _finish(
                session,
                import_id,
                ImportState.FAILED,
                error="The import stopped on an unexpected error; nothing was imported",
            )
            return {"failed": 1}


async def _run(session: AsyncSession, progress: AsyncConnection, row: Import) -> dict[str, int]:
    assert row.source is not None
    import_id = row.id
    try:
        parsed = parsing.parse(row.source, row.format, row.mapping or {})
    except FileRefused as refused:
        await _finish(session, import_id, ImportState.FAILED, error=refused.detail)
        return {"failed": 1}
    plan = await plan_rows(
        session, parsed.rows, create_unknown=row.unknown_reporters == UnknownPeople.CREATE
    )
    report = {"refused_count": plan.refused, "refusals": plan.refusals}
    if plan.refused and row.on_error == OnError.ABORT:
        await _finish(
            session,
            import_id,
            ImportState.FAILED,
            error=f"{plan.refused} of {len(parsed.rows)} rows were refused, so nothing was "
            "imported (import with on_error=skip to leave them out)",
            processed_rows=0,
            **report,
        )
        return {"failed": 1}
    try:
        counts = await _apply(session, progress, row, plan)
    except FileRefused as refused:
        await session.rollback()
        await _finish(session, import_id, ImportState.FAILED, error=refused.detail)
        return {"failed": 1}
    await _finish(
        session,
        import_id,
        ImportState.DONE,
        processed_rows=len(parsed.rows),
        **counts,
        **report,
    )
    log.info("import_done", import_id=import_id, at=datetime.now(UTC).isoformat(), **counts)
    return {"imports": 1, "rows": counts["created_count"] + counts["updated_count"]}
