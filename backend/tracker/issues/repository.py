"""SQL for issues. Hot reads select exactly the columns they return, in a fixed number of
statements whatever the page size; writes use RETURNING instead of re-reading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, aggregate_order_by, insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.selectable import CTE

from tracker.activity.models import IssueEvent
from tracker.attachments.models import Attachment
from tracker.comments.models import Comment
from tracker.db import Record, Sql, driver, fetch, fetchrow
from tracker.issues.cursor import Cursor
from tracker.issues.models import Issue, Severity, Status, Tag, issue_tags
from tracker.users.models import Role, User

# The hot statements are Core (table columns, not ORM attributes): the ORM's compile and
# row-loading steps cost more CPU than these queries take in PostgreSQL.
_issues_table: Table = Issue.__table__  # type: ignore[assignment]
_i = _issues_table.c
_events_table: Table = IssueEvent.__table__  # type: ignore[assignment]
_t = Tag.__table__.c
_c = Comment.__table__.c
_a = Attachment.__table__.c
_reporter = User.__table__.alias("reporter")
_assignee = User.__table__.alias("assignee")

# Matches are delimited by control characters that cannot come from the stored text's markup,
# so the snippet can be HTML-escaped as a whole and only then given its <mark> tags.
MARK_START, MARK_STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (
    f'StartSel="{MARK_START}", StopSel="{MARK_STOP}", MaxWords=35, MinWords=12, '
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)


def _tags_of(issue_id: Any) -> ColumnElement[list[str]]:
    return (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(_t.name, _t.name)),
                literal_column("'{}'::varchar[]"),
            )
        )
        .select_from(issue_tags.join(Tag.__table__, _t.id == issue_tags.c.tag_id))
        .where(issue_tags.c.issue_id == issue_id)
        .scalar_subquery()
    )


def _comment_count(issue_id: Any) -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(Comment.__table__)
        .where(_c.issue_id == issue_id)
        .scalar_subquery()
    )


def _summary_columns() -> list[Any]:
    return [
        _i.id,
        _i.title,
        _i.status,
        _i.severity,
        _i.version,
        _i.created_at,
        _i.updated_at,
        _i.resolved_at,
        _i.reporter_id,
        _reporter.c.full_name.label("reporter_name"),
        _i.assignee_id,
        _assignee.c.full_name.label("assignee_name"),
        _tags_of(_i.id).label("tags"),
        _comment_count(_i.id).label("comment_count"),
    ]


def _with_people(stmt: Select[Any]) -> Select[Any]:
    return stmt.join(_reporter, _reporter.c.id == _i.reporter_id).outerjoin(
        _assignee, _assignee.c.id == _i.assignee_id
    )


@dataclass
class ListFilter:
    statuses: Sequence[Status] = ()
    severities: Sequence[Severity] = ()
    tags: Sequence[str] = ()
    text: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    reporter_id: int | None = None
    # The caller's own id when they may only see what they reported (REPORTER).
    scope_reporter_id: int | None = None

    def shape(self) -> tuple[Any, ...]:
        """What decides the statement's SQL text (not its parameter values)."""
        return (
            self.scope_reporter_id is not None,
            bool(self.statuses),
            bool(self.severities),
            len(self.tags),
            self.text is not None,
            self.unassigned,
            self.assignee_id is not None,
            self.reporter_id is not None,
        )

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scope_reporter_id": self.scope_reporter_id,
            "statuses": list(self.statuses),
            "severities": list(self.severities),
            "q": self.text,
            "assignee_id": self.assignee_id,
            "reporter_id": self.reporter_id,
        }
        return out


def _conditions(
    scoped: bool,
    statuses: bool,
    severities: bool,
    tag_count: int,
    text: bool,
    unassigned: bool,
    assignee: bool,
    reporter: bool,
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if scoped:
        out.append(_i.reporter_id == bindparam("scope_reporter_id"))
    if statuses:
        out.append(_i.status == any_(bindparam("statuses", type_=ARRAY(String))))
    if severities:
        out.append(_i.severity == any_(bindparam("severities", type_=ARRAY(String))))
    for i in range(tag_count):
        # The tag's id is a parameter (list_page looks the names up first), so PostgreSQL plans
        # for that tag: its statistics know `bug` is on a third of the issues and `ldap` on a few
        # dozen, and choose between walking the sort order and fetching the tag's issues.
        tag_id = bindparam(f"tag_id_{i}", type_=Integer)
        out.append(_i.id.in_(select(issue_tags.c.issue_id).where(issue_tags.c.tag_id == tag_id)))
    if text:
        out.append(_i.search.bool_op("@@")(_TSQUERY))
    if unassigned:
        out.append(_i.assignee_id.is_(None))
    elif assignee:
        out.append(_i.assignee_id == bindparam("assignee_id"))
    if reporter:
        out.append(_i.reporter_id == bindparam("reporter_id"))
    return out


def _headline() -> ColumnElement[str]:
    return func.ts_headline(
        "english",
        func.coalesce(func.nullif(_i.description, ""), _i.title),
        _TSQUERY,
        HEADLINE_OPTIONS,
    )


SORT_KEYS: dict[str, Any] = {
    "created": _i.created_at,
    "updated": _i.updated_at,
    "severity": _i.severity_rank,
}

_TSQUERY = func.websearch_to_tsquery("english", bindparam("q", type_=String))

# Every list statement is built once per shape (which filters are present, the sort, whether a
# cursor is given) and reused with new parameters: building and cache-keying a statement this
# size costs more CPU than PostgreSQL spends running it. There are a few hundred shapes at most.
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
_LIST_STATEMENTS: dict[tuple[Any, ...], Sql] = {}


# Relevance ranks at most this many matches: the newest ones (docs/adr/0011).
RANKED_CANDIDATES = 1000


def _ranked_page(shape: tuple[Any, ...], has_cursor: bool) -> Subquery:
    """Relevance order over a bounded candidate set (docs/adr/0011-bounded-search-ranking.md).

    The newest RANKED_CANDIDATES matches (found through the GIN index, ordered by the cheap
    created_at key) come first, ordered by ts_rank; every older match follows, newest first, so
    paging still reaches every match. One float8 key orders both tiers: the rank (>= 0) in the
    first, the creation time (shifted below zero) in the second.
    """
    conditions = _conditions(*shape)
    limit = bindparam("limit", type_=Integer)
    candidates = (
        select(_i.id, _i.search, _i.created_at)
        .where(and_(True, *conditions))
        .order_by(_i.created_at.desc(), _i.id.desc())
        .limit(RANKED_CANDIDATES)
        .cte("candidates")
    )
    rank = cast(func.ts_rank(candidates.c.search, _TSQUERY), DOUBLE_PRECISION)
    ranked = select(candidates.c.id.label("page_id"), rank.label("sort_key"))
    oldest = select(candidates.c.created_at, candidates.c.id).order_by(
        candidates.c.created_at.asc(), candidates.c.id.asc()
    )
    # Microseconds since 1970 minus 9e15: negative, rising with created_at, and an integer below
    # 2**53, so float8 holds it exactly and it orders exactly as (created_at, id) does.
    age = cast(
        func.extract("epoch", _i.created_at) * literal_column("1000000")
        - literal_column("9000000000000000"),
        DOUBLE_PRECISION,
    )
    older = select(_i.id.label("page_id"), age.label("sort_key")).where(
        and_(True, *_conditions(*shape)),
        tuple_(_i.created_at, _i.id)
        < tuple_(
            oldest.with_only_columns(candidates.c.created_at).limit(1).scalar_subquery(),
            oldest.with_only_columns(candidates.c.id).limit(1).scalar_subquery(),
        ),
    )
    if has_cursor:
        key = bindparam("cursor_key", type_=DOUBLE_PRECISION)
        after = tuple_(key, bindparam("cursor_id", type_=Integer))
        ranked = ranked.where(tuple_(rank, candidates.c.id) < after)
        older = older.where(tuple_(age, _i.id) < after)
    first = ranked.order_by(rank.desc(), candidates.c.id.desc()).limit(limit).subquery("ranked")
    rest = older.order_by(_i.created_at.desc(), _i.id.desc()).limit(limit).subquery("older")
    return union_all(select(*first.c), select(*rest.c)).subquery("page")


def _list_statement(
    shape: tuple[Any, ...], sort: str, has_cursor: bool, rows: int | None = None
) -> Select[Any]:
    """The list statement for one shape.

    `rows` (the page size plus one) is written into the SQL of an unfiltered listing: with
    LIMIT a parameter, PostgreSQL's generic plan for the prepared statement guesses a large
    limit and is useless, so it plans every execution anew (about as much database CPU as
    running the query); with the number known, one plan serves every execution. Filtered
    listings keep LIMIT a parameter on purpose: the best plan for `tag=crash` depends on how
    many issues carry that tag, so they are planned for their values each time. Search always
    plans for its words (below)."""
    text = bool(shape[4])
    if sort == "rank":
        ranked_page = _ranked_page(shape, has_cursor)
        columns = [
            *_summary_columns(),
            _headline().label("snippet"),
            ranked_page.c.sort_key,
        ]
        return (
            _with_people(select(*columns).join(ranked_page, ranked_page.c.page_id == _i.id))
            .order_by(ranked_page.c.sort_key.desc(), ranked_page.c.page_id.desc())
            .limit(bindparam("limit", type_=Integer))
        )
    descending = sort.startswith("-")
    key: ColumnElement[Any] = SORT_KEYS[sort.lstrip("-")]

    conditions = _conditions(*shape)
    if has_cursor:
        bound = bindparam("cursor_key", type_=key.type)
        pair = tuple_(key, _i.id)
        after = tuple_(bound, bindparam("cursor_id", type_=Integer))
        conditions.append(pair < after if descending else pair > after)

    # The page is chosen first on the narrow index path; names, tags, counts and snippets are
    # computed only for the rows that make it onto the page.
    order = (key.desc(), _i.id.desc()) if descending else (key.asc(), _i.id.asc())
    limit: ColumnElement[int] = (
        bindparam("limit", type_=Integer) if rows is None else literal_column(str(int(rows)))
    )
    page = (
        select(_i.id.label("page_id"), key.label("sort_key"))
        .where(and_(True, *conditions))
        .order_by(*order)
        .limit(limit)
        .subquery("page")
    )
    columns = _summary_columns()
    if text:
        columns.append(_headline().label("snippet"))
    columns.append(page.c.sort_key)
    outer_order = (
        (page.c.sort_key.desc(), page.c.page_id.desc())
        if descending
        else (page.c.sort_key.asc(), page.c.page_id.asc())
    )
    return _with_people(select(*columns).join(page, page.c.page_id == _i.id)).order_by(*outer_order)


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
        assert flt.text is not None
    shape = flt.shape()
    # The row count goes into the SQL only where no filter's values can change the best plan.
    rows = None if sort == "rank" or any(shape) else limit + 1
    cache_key = (*shape, sort, cursor is not None, rows)
    stmt = _LIST_STATEMENTS.get(cache_key)
    if stmt is None:
        stmt = _LIST_STATEMENTS.setdefault(
            cache_key, Sql(_list_statement(shape, sort, cursor is not None, rows))
        )
    params = flt.params()
    if flt.tags:
        tag_ids = await _tag_ids(session, flt.tags)
        if tag_ids is None:
            return [], "sort_key"  # a tag nobody has used: nothing can match
        params.update({f"tag_id_{i}": tag_id for i, tag_id in enumerate(tag_ids)})
    params["limit"] = limit + 1
    if cursor is not None:
        params["cursor_key"] = cursor.key
        params["cursor_id"] = cursor.id
    if flt.text is not None:
        # How many issues match depends entirely on the words: a plan made once for any words
        # (PostgreSQL's generic plan for a prepared statement) walks the date index for a common
        # term and costs 8x the plan made for the actual words. This transaction only.
        await (await driver(session, write=True)).execute(_CUSTOM_PLANS)
    return await fetch(session, stmt, params), "sort_key"


def _detail_statement(scoped: bool) -> Select[Any]:
    attachment_count = (
        select(func.count())
        .select_from(Attachment.__table__)
        .where(_a.issue_id == _i.id)
        .scalar_subquery()
    )
    stmt = _with_people(
        select(
            *_summary_columns(),
            _i.description,
            _i.description_html,
            attachment_count.label("attachment_count"),
        ).where(_i.id == bindparam("issue_id", type_=Integer))
    )
    if scoped:
        stmt = stmt.where(_i.reporter_id == bindparam("scope_reporter_id", type_=Integer))
    return stmt


_DETAIL = {scoped: Sql(_detail_statement(scoped)) for scoped in (False, True)}


async def get_detail(
    session: AsyncSession, issue_id: int, scope_reporter_id: int | None
) -> Record | None:
    stmt = _DETAIL[scope_reporter_id is not None]
    return await fetchrow(
        session, stmt, {"issue_id": issue_id, "scope_reporter_id": scope_reporter_id}
    )


_LOCK_FOR_UPDATE = Sql(
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
    return await fetchrow(session, _LOCK_FOR_UPDATE, {"issue_id": issue_id}, write=True)


_NEW_ISSUE_COLUMNS = ("title", "description", "description_html", "severity", "status")
_NEW_ISSUE_RETURNED = (_i.id, _i.status, _i.version, _i.created_at, _i.updated_at)


def _new_issue_values() -> dict[str, ColumnElement[Any]]:
    return {
        **{name: bindparam(name, type_=_i[name].type) for name in _NEW_ISSUE_COLUMNS},
        "reporter_id": bindparam("reporter_id", type_=Integer),
    }


def _attach_tags(issue: CTE, names: ColumnElement[Any]) -> CTE:
    """The new issue's links to those of the tags `names` that exist."""
    return (
        insert(issue_tags)
        .from_select(
            ["issue_id", "tag_id"],
            select(issue.c.id, _t.id).where(func.lower(_t.name) == any_(names)),
        )
        .on_conflict_do_nothing()
        .returning(issue_tags.c.tag_id)
        .cte("tagged")
    )


def _insert_statement() -> Sql:
    """The issue and its (existing) tags in one statement:

    WITH issue AS (INSERT INTO issues … RETURNING …),
         tagged AS (INSERT INTO issue_tags SELECT issue.id, tags.id FROM issue, tags
                    WHERE lower(tags.name) = ANY($names) … RETURNING tag_id)
    SELECT issue.*, (SELECT count(*) FROM tagged) AS tagged FROM issue
    """
    issue = (
        insert(_issues_table)
        .values(_new_issue_values())
        .returning(*_NEW_ISSUE_RETURNED)
        .cte("issue")
    )
    tagged = _attach_tags(issue, bindparam("tag_names", type_=ARRAY(String)))
    count = select(func.count()).select_from(tagged).scalar_subquery()
    return Sql(select(*issue.c, count.label("tagged")))


_INSERT_ISSUE = _insert_statement()


async def insert_issue(session: AsyncSession, values: dict[str, Any], tags: list[str]) -> Record:
    """Insert the issue with those of its (lower-case, distinct) tags that exist already; the
    row's `tagged` says how many that was."""
    row = await fetchrow(session, _INSERT_ISSUE, {**values, "tag_names": tags}, write=True)
    assert row is not None
    return row


def _insert_alone_statement() -> Sql:
    """The issue, its tags and its `issue.created` event in one statement, which needs no
    transaction around it: PostgreSQL commits it whole or not at all.

    WITH issue AS (INSERT INTO issues (…) SELECT $title, … WHERE <every tag exists>
                   RETURNING …),
         tagged AS (INSERT INTO issue_tags SELECT issue.id, tags.id FROM issue, tags
                    WHERE lower(tags.name) = ANY($names)),
         event AS (INSERT INTO issue_events SELECT issue.id, issue.id, $reporter … FROM issue)
    SELECT issue.* FROM issue

    When a tag is new, the SELECT yields no row: nothing is inserted (not even an id drawn from
    the sequence, so issue numbers keep no gap) and the statement returns no row.
    """
    names = bindparam("tag_names", type_=ARRAY(String))
    known = select(func.count()).where(func.lower(_t.name) == any_(names)).scalar_subquery()
    given = func.unnest(names).table_valued("name").render_derived("given")
    wanted = select(func.count(func.distinct(given.c.name))).select_from(given).scalar_subquery()
    values = {**_new_issue_values(), "version": literal(1, Integer)}  # a new issue's version
    issue = (
        insert(_issues_table)
        .from_select(list(values), select(*values.values()).where(known == wanted))
        .returning(*_NEW_ISSUE_RETURNED)
        .cte("issue")
    )
    tagged = _attach_tags(issue, names)
    event_columns = ("reporter_id", "actor_id", "kind", "data")
    event = (
        insert(_events_table)
        .from_select(
            ["issue_id", "issue_ref", *event_columns],
            select(
                issue.c.id,
                issue.c.id,
                *(
                    bindparam(f"event_{name}", type_=_events_table.c[name].type)
                    for name in event_columns
                ),
            ),
        )
        .returning(_events_table.c.issue_ref)
        .cte("event")
    )
    # Each data-modifying CTE runs whether or not the result reads it; reading them keeps the
    # statement honest about what it does.
    written = select(func.count()).select_from(tagged).scalar_subquery()
    recorded = select(func.count()).select_from(event).scalar_subquery()
    return Sql(select(*issue.c, written.label("tagged"), recorded.label("events")))


_INSERT_ALONE = _insert_alone_statement()


async def insert_issue_alone(
    session: AsyncSession, values: dict[str, Any], tags: list[str], event: dict[str, Any]
) -> Record | None:
    """File an issue whose tags all exist already, with its event, as one statement (outside a
    transaction: the request's first write). None, and nothing written, when a tag is new."""
    params = {**values, "tag_names": tags, **{f"event_{k}": v for k, v in event.items()}}
    return await fetchrow(session, _INSERT_ALONE, params)


# One UPDATE per set of changed fields, built once. `resolved_at` is set by the database clock.
_UPDATES: dict[tuple[str, ...], Sql] = {}
NOW = "now"


def _update_statement(names: tuple[str, ...]) -> Sql:
    values: dict[str, Any] = {
        name: func.now() if name == "resolved_at_now" else bindparam(name, type_=_i[name].type)
        for name in names
    }
    if "resolved_at_now" in values:
        values["resolved_at"] = values.pop("resolved_at_now")
    return Sql(
        update(_issues_table)
        .where(
            _i.id == bindparam("issue_id", type_=Integer),
            _i.version == bindparam("expected_version", type_=Integer),
        )
        .values({**values, "version": _i.version + 1, "updated_at": func.now()})
        .returning(_i.version)
    )


async def update_issue(
    session: AsyncSession, issue_id: int, version: int, values: dict[str, Any]
) -> int | None:
    """Apply `values` when the row still has `version`; the new version, or None.
    `resolved_at=NOW` sets the resolution time from the database clock."""
    params = {k: v for k, v in values.items() if not (k == "resolved_at" and v == NOW)}
    names = tuple(sorted(params)) + (("resolved_at_now",) if len(params) < len(values) else ())
    stmt = _UPDATES.get(names)
    if stmt is None:
        stmt = _UPDATES.setdefault(names, _update_statement(names))
    params["issue_id"] = issue_id
    params["expected_version"] = version
    row = await fetchrow(session, stmt, params, write=True)
    return None if row is None else int(row["version"])


async def touch_issue(session: AsyncSession, issue_id: int) -> None:
    """Mark the issue as recently active (a comment) without changing its version."""
    await session.execute(update(Issue).where(Issue.id == issue_id).values(updated_at=func.now()))


async def delete_issue(session: AsyncSession, issue_id: int) -> None:
    await session.execute(delete(Issue).where(Issue.id == issue_id))


async def existing_ids(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(await session.scalars(select(Issue.id).where(Issue.id.in_(ids))))


_TAG_IDS = Sql(
    select(_t.id, func.lower(_t.name).label("name")).where(
        func.lower(_t.name) == any_(bindparam("names", type_=ARRAY(String)))
    )
)


async def _tag_ids(session: AsyncSession, names: Sequence[str]) -> list[int] | None:
    """The ids of these tag names (case-insensitive), in the same order; None if one is unknown."""
    lowered = [name.lower() for name in names]
    found = {r["name"]: r["id"] for r in await fetch(session, _TAG_IDS, {"names": lowered})}
    if len(found) < len(set(lowered)):
        return None
    return [found[name] for name in lowered]


async def ensure_tags(session: AsyncSession, names: Sequence[str]) -> list[int]:
    """Ids of the tags with these names (case-insensitive), creating the missing ones."""
    if not names:
        return []
    lowered = sorted({n.lower() for n in names})
    found: dict[str, int] = {
        r["name"]: r["id"] for r in await fetch(session, _TAG_IDS, {"names": lowered}, write=True)
    }
    missing = [n for n in names if n.lower() not in found]
    if missing:
        # Usually every tag exists already: only then is there something to insert (and a
        # concurrent request may have created it meanwhile, hence DO NOTHING and re-reading).
        await session.execute(
            insert(Tag)
            .values([{"name": n} for n in missing])
            .on_conflict_do_nothing(index_elements=[func.lower(Tag.name)])
        )
        found = {
            r["name"]: r["id"]
            for r in await fetch(session, _TAG_IDS, {"names": lowered}, write=True)
        }
    return list(found.values())


async def tag_names(session: AsyncSession, issue_id: int) -> list[str]:
    stmt = (
        select(Tag.name)
        .join(issue_tags, issue_tags.c.tag_id == Tag.id)
        .where(issue_tags.c.issue_id == issue_id)
        .order_by(Tag.name)
    )
    return list((await session.execute(stmt)).scalars())


_ADD_TAGS = Sql(
    insert(issue_tags)
    .from_select(
        ["issue_id", "tag_id"],
        select(
            bindparam("issue_id", type_=Integer),
            func.unnest(bindparam("tag_ids", type_=ARRAY(Integer))),
        ),
    )
    .on_conflict_do_nothing()
)


async def add_issue_tags(session: AsyncSession, issue_id: int, tag_ids: Sequence[int]) -> None:
    if tag_ids:
        await fetch(
            session, _ADD_TAGS, {"issue_id": issue_id, "tag_ids": list(tag_ids)}, write=True
        )


async def set_issue_tags(session: AsyncSession, issue_id: int, tag_ids: Sequence[int]) -> None:
    await session.execute(
        delete(issue_tags).where(
            issue_tags.c.issue_id == issue_id, issue_tags.c.tag_id.not_in(list(tag_ids))
        )
    )
    await add_issue_tags(session, issue_id, tag_ids)


async def users_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, RowMapping]:
    if not ids:
        return {}
    stmt = select(User.id, User.full_name, User.role, User.is_active).where(User.id.in_(list(ids)))
    return {r["id"]: r for r in (await session.execute(stmt)).mappings()}


async def assignable_users(session: AsyncSession) -> list[RowMapping]:
    stmt = (
        select(User.id, User.full_name, User.role)
        .where(User.is_active.is_(True), User.role.in_([Role.ADMIN, Role.MAINTAINER]))
        .order_by(func.lower(User.full_name), User.id)
    )
    return list((await session.execute(stmt)).mappings())


async def similar(
    session: AsyncSession, text: str, scope_reporter_id: int | None, limit: int
) -> list[RowMapping]:
    score = func.greatest(
        func.similarity(Issue.title, text), func.word_similarity(text, Issue.title)
    )
    stmt = (
        select(Issue.id, Issue.title, Issue.status, score.label("similarity"))
        .where(or_(Issue.title.op("%")(text), literal(text).op("<%")(Issue.title)))
        .order_by(score.desc(), Issue.id.desc())
        .limit(limit)
    )
    if scope_reporter_id is not None:
        stmt = stmt.where(Issue.reporter_id == scope_reporter_id)
    return list((await session.execute(stmt)).mappings())


async def list_tags(
    session: AsyncSession, prefix: str | None, scope_reporter_id: int | None, limit: int
) -> list[RowMapping]:
    counted = select(func.count()).select_from(issue_tags).where(issue_tags.c.tag_id == Tag.id)
    if scope_reporter_id is not None:
        counted = counted.join(Issue, Issue.id == issue_tags.c.issue_id).where(
            Issue.reporter_id == scope_reporter_id
        )
    stmt = select(Tag.id, Tag.name, counted.scalar_subquery().label("issue_count"))
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(Tag.name).like(f"{escaped}%", escape="\\"))
    stmt = stmt.order_by(func.lower(Tag.name)).limit(limit)
    return list((await session.execute(stmt)).mappings())


async def list_events(
    session: AsyncSession, issue_id: int, after_id: int | None, limit: int
) -> list[RowMapping]:
    stmt = (
        select(
            IssueEvent.id,
            IssueEvent.issue_id,
            IssueEvent.kind,
            IssueEvent.data,
            IssueEvent.created_at,
            IssueEvent.actor_id,
            User.full_name.label("actor_name"),
        )
        .outerjoin(User, User.id == IssueEvent.actor_id)
        .where(IssueEvent.issue_id == issue_id)
        .order_by(IssueEvent.id)
        .limit(limit + 1)
    )
    if after_id is not None:
        stmt = stmt.where(IssueEvent.id > after_id)
    return list((await session.execute(stmt)).mappings())
