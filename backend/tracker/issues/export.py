"""Export of an issue listing as CSV (RFC 4180) or JSON, streamed.

The rows are read in pages of EXPORT_BATCH by issue number, each page in its own short
transaction, so memory stays constant whatever the size and no connection is held while the
client is slow to read. An issue changed during a long export is exported as it was when its
page was read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.db import Record, StatementCache, fetch
from tracker.issues.columns import ASSIGNEE, ISSUES, REPORTER, tags_of, with_people
from tracker.issues.filters import ListFilter, ListShape, conditions
from tracker.issues.tags import tag_ids

_i = ISSUES.c

EXPORT_BATCH = 1000
Format = Literal["csv", "json"]
COLUMNS = (
    "id",
    "title",
    "description",
    "status",
    "severity",
    "tags",
    "reporter_email",
    "reporter_name",
    "assignee_email",
    "assignee_name",
    "created_at",
    "updated_at",
    "resolved_at",
)
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@StatementCache
def export_statement(shape: ListShape) -> Select[Any]:
    return (
        with_people(
            select(
                _i.id,
                _i.title,
                _i.description,
                _i.status,
                _i.severity,
                tags_of(_i.id).label("tags"),
                REPORTER.c.email.label("reporter_email"),
                REPORTER.c.full_name.label("reporter_name"),
                ASSIGNEE.c.email.label("assignee_email"),
                ASSIGNEE.c.full_name.label("assignee_name"),
                _i.created_at,
                _i.updated_at,
                _i.resolved_at,
            )
        )
        .where(*conditions(shape), _i.id > bindparam("after_id"))
        .order_by(_i.id)
        .limit(EXPORT_BATCH)
    )


async def export_params(session: AsyncSession, flt: ListFilter) -> dict[str, Any] | None:
    """The statement's parameters; None when a tag asked for is one nobody uses (no match)."""
    params = flt.params()
    if flt.tags:
        ids = await tag_ids(session, flt.tags)
        if ids is None:
            return None
        params.update({f"tag_id_{n}": tag_id for n, tag_id in enumerate(ids)})
    return params


def _record(row: Record, *, emails: bool) -> dict[str, Any]:
    out = {name: row[name] for name in COLUMNS}
    out["tags"] = list(row["tags"] or [])
    for key in ("status", "severity"):
        out[key] = str(out[key])
    for key in ("created_at", "updated_at", "resolved_at"):
        value = out[key]
        out[key] = value.isoformat() if isinstance(value, datetime) else None
    if not emails:
        out["reporter_email"] = out["assignee_email"] = None
    return out


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def _pages(
    sessions: async_sessionmaker[AsyncSession], shape: ListShape, params: dict[str, Any] | None
) -> AsyncIterator[list[Record]]:
    if params is None:
        return
    after = 0
    while True:
        async with sessions() as session, session.begin():
            rows = await fetch(session, export_statement(shape), {**params, "after_id": after})
        if not rows:
            return
        yield rows
        if len(rows) < EXPORT_BATCH:
            return
        after = rows[-1]["id"]


async def stream(
    sessions: async_sessionmaker[AsyncSession],
    flt: ListFilter,
    params: dict[str, Any] | None,
    fmt: Format,
    *,
    emails: bool,
) -> AsyncIterator[bytes]:
    """The export's bytes, a page of issues at a time."""
    shape = flt.shape()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        async for rows in _pages(sessions, shape, params):
            for row in rows:
                record = _record(row, emails=emails)
                writer.writerow([csv_cell(record[name]) for name in COLUMNS])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()
        return
    yield b"["
    first = True
    async for rows in _pages(sessions, shape, params):
        chunk = ",\n".join(
            json.dumps(_record(row, emails=emails), ensure_ascii=False) for row in rows
        )
        yield (chunk if first else ",\n" + chunk).encode()
        first = False
    yield b"]\n"
