"""SQL for issue rows and pages: the list, an issue's page, the row lock, edits, deletion,
similar titles and the tag list.

The issues domain's SQL is split by what it does: this module (rows and pages), `search.py`
(relevance search), `filters.py` (what narrows a list and its WHERE conditions), `columns.py`
(what a row shows), `tags.py` (tag names and links) and `filing.py` (the INSERTs of a new
issue); `statements.py` names the compiled statements others may send as they are.

Hot reads select exactly the columns they return, in a fixed number of statements whatever the
page size; writes use RETURNING instead of re-reading. Every read returns asyncpg `Record`s
(`tracker.db.Record`, read by column name) from a statement compiled once and sent on the
request's driver connection: the row type the hot paths need, so every read has it. The one
exception is `get_for_access`, the ORM `Issue` that access dependencies hand to comments and
attachments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.cursors import Cursor
from tracker.db import Record, Sql, StatementCache, driver, fetch, fetchrow
from tracker.issues import search
from tracker.issues.columns import (
    ISSUES,
    SORT_KEYS,
    TAGS,
    snippet_source,
    summary_columns,
    with_people,
)
from tracker.issues.filters import ListFilter, ListShape, conditions
from tracker.issues.models import Issue, issue_tags
from tracker.issues.tags import tag_ids
from tracker.issues.watching import watching_column

_i = ISSUES.c
_t = TAGS.c

# A list with a text is planned for its words, in a transaction of its own (list_page).
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


def page_rows(shape: ListShape, sort: str, limit: int) -> int | None:
    """The row count written into a list statement's SQL, or None to keep it a parameter.

    With LIMIT a parameter, PostgreSQL's generic plan for the prepared statement guesses a large
    limit and is useless, so it plans every execution anew (about as much database CPU as
    running the query); with the number known, one plan serves every execution. So an
    unfiltered listing has it in its SQL. Filtered listings keep LIMIT a parameter on purpose:
    the best plan for `tag=crash` depends on how many issues carry that tag, so they are planned
    for their values each time. Search always plans for its words."""
    return None if sort == "rank" or shape.narrowed else limit + 1


@StatementCache
def list_statement(shape: ListShape, sort: str, has_cursor: bool, rows: int | None) -> Select[Any]:
    """The list statement for one shape, sort (one of SORTS, or "rank") and kind of page;
    `rows` as page_rows() says."""
    if sort == "rank":
        return search.ranked_statement(shape, has_cursor)
    descending = sort.startswith("-")
    key: ColumnElement[Any] = SORT_KEYS[sort.lstrip("-")]

    where = conditions(shape)
    if has_cursor:
        bound = bindparam("cursor_key", type_=key.type)
        pair = tuple_(key, _i.id)
        after = tuple_(bound, bindparam("cursor_id", type_=Integer))
        where.append(pair < after if descending else pair > after)

    # The page is chosen first on the narrow index path; names, tags and snippets are computed
    # only for the rows that make it onto the page.
    order = (key.desc(), _i.id.desc()) if descending else (key.asc(), _i.id.asc())
    limit: ColumnElement[int] = (
        bindparam("limit", type_=Integer) if rows is None else literal_column(str(int(rows)))
    )
    page = (
        select(_i.id.label("page_id"), key.label("sort_key"))
        .where(and_(True, *where))
        .order_by(*order)
        .limit(limit)
        .subquery("page")
    )
    columns = summary_columns()
    if shape.text:
        columns.append(snippet_source())
    columns.append(page.c.sort_key)
    outer_order = (
        (page.c.sort_key.desc(), page.c.page_id.desc())
        if descending
        else (page.c.sort_key.asc(), page.c.page_id.asc())
    )
    return with_people(select(*columns).join(page, page.c.page_id == _i.id)).order_by(*outer_order)


async def list_page(
    session: AsyncSession,
    flt: ListFilter,
    *,
    sort: str,
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[Record], str]:
    """One statement: the page (plus one row to know if there is more), newest key last.

    `sort` is one of SORTS, or "rank" (text relevance, only with a text query). Returns the rows
    and the name of the column holding each row's sort key.
    """
    if sort == "rank":
        found = await search.search_by_words(session, flt, cursor, limit)
        if found is not None:
            return found, "sort_key"
    shape = flt.shape()
    stmt = list_statement(shape, sort, cursor is not None, page_rows(shape, sort, limit))
    params = flt.params()
    if flt.tags:
        ids = await tag_ids(session, flt.tags)
        if ids is None:
            return [], "sort_key"  # a tag nobody has used: nothing can match
        params.update({f"tag_id_{n}": tag_id for n, tag_id in enumerate(ids)})
    params["limit"] = limit + 1
    if cursor is not None:
        params["cursor_key"] = cursor.key
        params["cursor_id"] = cursor.id
    if flt.text is not None:
        # How many issues match depends entirely on the words: a plan made once for any words
        # (PostgreSQL's generic plan for a prepared statement) walks the date index for a common
        # term and costs 8x the plan made for the actual words. This transaction only.
        await (await driver(session, write=True)).execute(CUSTOM_PLANS)
    return await fetch(session, stmt, params), "sort_key"


@StatementCache
def detail_statement(scoped: bool) -> Select[Any]:
    """An issue's page; `scoped` for a caller who sees only what they reported. Its counts are
    columns of `issues`, kept by the database (migration 0009)."""
    stmt = with_people(
        select(
            *summary_columns(),
            _i.description,
            _i.description_html,
            _i.attachment_count,
            watching_column(_i.id, _i.reporter_id, _i.assignee_id).label("watching"),
        ).where(_i.id == bindparam("issue_id", type_=Integer))
    )
    if scoped:
        stmt = stmt.where(_i.reporter_id == bindparam("scope_reporter_id", type_=Integer))
    return stmt


async def get_detail(
    session: AsyncSession, issue_id: int, scope_reporter_id: int | None, viewer_id: int
) -> Record | None:
    stmt = detail_statement(scope_reporter_id is not None)
    return await fetchrow(
        session,
        stmt,
        {"issue_id": issue_id, "scope_reporter_id": scope_reporter_id, "viewer_id": viewer_id},
    )


async def get_for_access(session: AsyncSession, issue_id: int) -> Issue | None:
    """The issue as an ORM object: what access dependencies give the domains built on issues."""
    return await session.get(Issue, issue_id)


LOCK_FOR_UPDATE = Sql(
    select(
        _i.id,
        _i.title,
        _i.description,
        _i.severity,
        _i.status,
        _i.reporter_id,
        _i.assignee_id,
        _i.version,
    )
    .where(_i.id == bindparam("issue_id", type_=Integer))
    .with_for_update()
)


async def lock_for_update(session: AsyncSession, issue_id: int) -> Record | None:
    return await fetchrow(session, LOCK_FOR_UPDATE, {"issue_id": issue_id}, write=True)


# `resolved_at=NOW` in update_issue: the resolution time comes from the database clock.
NOW = "now"


@StatementCache
def update_statement(names: tuple[str, ...]) -> Update:
    """The UPDATE of these fields (sorted; `resolved_at_now` last for a resolution now) when
    the row still has `expected_version`, returning the new version."""
    values: dict[str, Any] = {
        name: func.now() if name == "resolved_at_now" else bindparam(name, type_=_i[name].type)
        for name in names
    }
    if "resolved_at_now" in values:
        values["resolved_at"] = values.pop("resolved_at_now")
    return (
        update(ISSUES)
        .where(
            _i.id == bindparam("issue_id", type_=Integer),
            _i.version == bindparam("expected_version", type_=Integer),
        )
        .values({**values, "version": _i.version + 1, "updated_at": func.now()})
        .returning(_i.version)
    )


def update_names(values: dict[str, Any]) -> tuple[str, ...]:
    """The key of update_statement() for these changed values."""
    params = [k for k, v in values.items() if not (k == "resolved_at" and v == NOW)]
    return tuple(sorted(params)) + (("resolved_at_now",) if len(params) < len(values) else ())


async def update_issue(
    session: AsyncSession, issue_id: int, version: int, values: dict[str, Any]
) -> int | None:
    """Apply `values` when the row still has `version`; the new version, or None.
    `resolved_at=NOW` sets the resolution time from the database clock."""
    params = {k: v for k, v in values.items() if not (k == "resolved_at" and v == NOW)}
    params["issue_id"] = issue_id
    params["expected_version"] = version
    row = await fetchrow(session, update_statement(update_names(values)), params, write=True)
    return None if row is None else int(row["version"])


async def touch_issue(session: AsyncSession, issue_id: int) -> None:
    """Mark the issue as recently active (a comment) without changing its version."""
    await session.execute(update(Issue).where(Issue.id == issue_id).values(updated_at=func.now()))


async def delete_issue(session: AsyncSession, issue_id: int) -> None:
    await session.execute(delete(Issue).where(Issue.id == issue_id))


_EXISTING = Sql(select(_i.id).where(_i.id == any_(bindparam("ids", type_=ARRAY(Integer)))))


async def existing_ids(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return {r["id"] for r in await fetch(session, _EXISTING, {"ids": list(ids)})}


@StatementCache
def _similar_statement(scoped: bool) -> Select[Any]:
    text = bindparam("q", type_=String)
    score = func.greatest(func.similarity(_i.title, text), func.word_similarity(text, _i.title))
    stmt = (
        select(_i.id, _i.title, _i.status, score.label("similarity"))
        .where(or_(_i.title.op("%")(text), text.op("<%")(_i.title)))
        .order_by(score.desc(), _i.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if scoped:
        stmt = stmt.where(_i.reporter_id == bindparam("scope_reporter_id", type_=Integer))
    return stmt


async def similar(
    session: AsyncSession, text: str, scope_reporter_id: int | None, limit: int
) -> list[Record]:
    """Issues whose title is like `text` (trigram similarity), most alike first."""
    params = {"q": text, "scope_reporter_id": scope_reporter_id, "limit": limit}
    return await fetch(session, _similar_statement(scope_reporter_id is not None), params)


@StatementCache
def _tags_statement(scoped: bool, prefixed: bool) -> Select[Any]:
    counted = select(func.count()).select_from(issue_tags).where(issue_tags.c.tag_id == _t.id)
    if scoped:
        counted = counted.join(ISSUES, _i.id == issue_tags.c.issue_id).where(
            _i.reporter_id == bindparam("scope_reporter_id", type_=Integer)
        )
    count = counted.scalar_subquery()
    stmt = select(_t.id, _t.name, count.label("issue_count"))
    if scoped:
        # A tag's name says something about the issues that carry it: someone who sees only
        # their own issues sees only the tags on them.
        stmt = stmt.where(count > 0)
    if prefixed:
        pattern = bindparam("pattern", type_=String)
        stmt = stmt.where(func.lower(_t.name).like(pattern, escape="\\"))
    return stmt.order_by(func.lower(_t.name)).limit(bindparam("limit", type_=Integer))


async def list_tags(
    session: AsyncSession, prefix: str | None, scope_reporter_id: int | None, limit: int
) -> list[Record]:
    """Tags by name (those starting with `prefix`), with how many issues carry each."""
    pattern = None
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"{escaped}%"
    stmt = _tags_statement(scope_reporter_id is not None, pattern is not None)
    params = {"scope_reporter_id": scope_reporter_id, "pattern": pattern, "limit": limit}
    return await fetch(session, stmt, params)
