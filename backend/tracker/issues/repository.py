"""SQL for issues. Hot reads select exactly the columns they return, in a fixed number of
statements whatever the page size; writes use RETURNING instead of re-reading."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
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
from tracker.auth.models import User
from tracker.cursors import Cursor
from tracker.db import Record, Sql, driver, fetch, fetchrow
from tracker.issues.models import Issue, Severity, Status, Tag, issue_tags, search_terms
from tracker.issues.schemas import PAGE_MAX
from tracker.roles import STAFF_ROLES

# The hot statements are Core (table columns, not ORM attributes): the ORM's compile and
# row-loading steps cost more CPU than these queries take in PostgreSQL.
_issues_table: Table = Issue.__table__  # type: ignore[assignment]
_i = _issues_table.c
_events_table: Table = IssueEvent.__table__  # type: ignore[assignment]
_t = Tag.__table__.c
_reporter = User.__table__.alias("reporter")
_assignee = User.__table__.alias("assignee")

# A search result's snippet is made from this much of its description (issues.snippets).
SNIPPET_SOURCE_CHARS = 4000


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


def _summary_columns() -> list[Any]:
    """An issue as a list shows it. Its comment count is a column of `issues`, kept by the
    database (migration 0009), so a page reads no comment."""
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
        _i.comment_count,
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
    # The text's search words (search_words), for a search.
    words: Sequence[str] = ()

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

    def text_alone(self) -> bool:
        """A search of every issue: nothing but the text narrows the list."""
        shape = self.shape()
        return bool(shape[4]) and not any(shape[:4] + shape[5:])

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


def _snippet_source() -> ColumnElement[str]:
    text = func.coalesce(func.nullif(_i.description, ""), _i.title)
    return func.left(text, SNIPPET_SOURCE_CHARS).label("snippet_source")


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


# Relevance ranks at most this many matches: the newest ones (docs/adr/0011, 0014).
RANKED_CANDIDATES = 500
# Tier two's sort key is the issue number shifted below zero (below every score, exact in float8).
_OLDER_SHIFT: ColumnElement[int] = literal_column("4294967296")
# Plain words (no "quotes", no `or`, no -word) that stem to at most this many search words are
# answered from search_terms alone when nothing else filters the list (docs/adr/0014).
SEARCH_WORDS_MAX = 8
_PLAIN_WORDS = re.compile(r"[^\W_]+(?:\s+[^\W_]+)*")


def _words_of_q() -> ColumnElement[list[str]]:
    """The distinct lexemes PostgreSQL's 'english' configuration makes of the text `q`."""
    english: ColumnElement[str] = literal_column("'english'::regconfig")
    return func.tsvector_to_array(func.to_tsvector(english, bindparam("q", type_=String)))


_LEXEMES = Sql(select(_words_of_q()))
# What _LEXEMES answered for recent queries: it depends on the text alone (the 'english'
# configuration is fixed), and asking costs a round trip per search.
_LEXEME_CACHE: dict[str, list[str]] = {}
_LEXEME_CACHE_SIZE = 4096
_SEARCH_STATEMENTS: dict[tuple[int, bool], Sql] = {}


def _ranked() -> ColumnElement[int]:
    # Written into the SQL: the plan depends on it. Read at build time (tests lower it).
    return literal_column(str(int(RANKED_CANDIDATES)))


def plain_words(text: str) -> bool:
    """Whether websearch_to_tsquery reads `text` as nothing but words that must all appear."""
    return bool(_PLAIN_WORDS.fullmatch(text)) and "or" not in text.lower().split()


# The matches older than a bound, and the column of their issue number.
_Older = Callable[[ColumnElement[int]], tuple[Select[Any], ColumnElement[int]]]


def _two_tiers(candidates: CTE, older: _Older, has_cursor: bool) -> Subquery:
    """Relevance order over a bounded candidate set (docs/adr/0011-bounded-search-ranking.md).

    `candidates` (id, score) are the newest RANKED_CANDIDATES matches; they come first, by
    score. Every older match follows, newest first, so paging still reaches every match; it is
    looked for only when the candidates are that many. One float8 key orders both tiers: the
    score (>= 0) in the first, the issue number shifted below zero in the second.
    """
    limit = bindparam("limit", type_=Integer)
    score = candidates.c.score
    ranked = select(candidates.c.id.label("page_id"), score.label("sort_key"))
    if not has_cursor and RANKED_CANDIDATES > PAGE_MAX + 1:
        # A first page is all candidates: they are more than a page, or they are every match.
        return ranked.order_by(score.desc(), candidates.c.id.desc()).limit(limit).subquery("page")
    # The oldest candidate's number if the candidates are as many as are ranked (older matches
    # may exist), else NULL: every match is a candidate, and `id < NULL` finds nothing.
    oldest = select(case((func.count() == _ranked(), func.min(candidates.c.id)))).scalar_subquery()
    rest, older_id = older(oldest)
    age = cast(older_id - _OLDER_SHIFT, DOUBLE_PRECISION)
    rest = rest.with_only_columns(older_id.label("page_id"), age.label("sort_key"))
    if has_cursor:
        key = bindparam("cursor_key", type_=DOUBLE_PRECISION)
        after = tuple_(key, bindparam("cursor_id", type_=Integer))
        ranked = ranked.where(tuple_(score, candidates.c.id) < after)
        rest = rest.where(tuple_(age, older_id) < after)
    first = ranked.order_by(score.desc(), candidates.c.id.desc()).limit(limit).subquery("ranked")
    second = rest.order_by(older_id.desc()).limit(limit).subquery("older")
    return union_all(select(*first.c), select(*second.c)).subquery("page")


def _ranked_page(shape: tuple[Any, ...], has_cursor: bool) -> Subquery:
    """Any search, with any filters: the matches come from `issues` (its GIN index or a walk
    of another index, as PostgreSQL plans it); their scores from search_terms."""
    matches = (
        select(_i.id)
        .where(and_(True, *_conditions(*shape)))
        .order_by(_i.id.desc())
        .limit(_ranked())
        .cte("matches")
    )
    scored = matches.outerjoin(
        search_terms,
        and_(search_terms.c.issue_id == matches.c.id, search_terms.c.lexeme == any_(_words_of_q())),
    )
    score = func.coalesce(func.sum(search_terms.c.score), 0)
    candidates = (
        select(matches.c.id, cast(score, DOUBLE_PRECISION).label("score"))
        .select_from(scored)
        .group_by(matches.c.id)
        .cte("candidates")
    )

    def older(below: ColumnElement[int]) -> tuple[Select[Any], ColumnElement[int]]:
        return select(_i.id).where(and_(True, *_conditions(*shape)), _i.id < below), _i.id

    return _two_tiers(candidates, older, has_cursor)


def _word_matches(words: int, below: ColumnElement[int] | None) -> Select[Any]:
    """Issues holding every word (id, score), newest first: each word's issues are read from
    search_terms' primary key in issue order and merged. Each list is its own subquery (OFFSET
    0) so that PostgreSQL merges the ordered lists instead of looking every issue of one word
    up in the others' (a lookup per issue costs ten times a step of the merge)."""
    lists = []
    for i in range(words):
        conditions = [search_terms.c.lexeme == bindparam(f"lexeme_{i}", type_=Text)]
        if below is not None:
            conditions.append(search_terms.c.issue_id < below)
        lists.append(
            select(search_terms.c.issue_id, search_terms.c.score)
            .where(*conditions)
            .order_by(search_terms.c.issue_id.desc())
            .offset(literal_column("0"))
            .subquery(f"word_{i}")
        )
    first = lists[0]
    joined: Any = first
    score: ColumnElement[float] = first.c.score
    for other in lists[1:]:
        joined = joined.join(other, other.c.issue_id == first.c.issue_id)
        score = score + other.c.score
    return (
        select(first.c.issue_id.label("id"), cast(score, DOUBLE_PRECISION).label("score"))
        .select_from(joined)
        .order_by(first.c.issue_id.desc())
    )


def _words_page(words: int, has_cursor: bool) -> Subquery:
    """Plain words and no filter: the matches and their scores from search_terms alone."""
    candidates = _word_matches(words, None).limit(_ranked()).cte("candidates")

    def older(below: ColumnElement[int]) -> tuple[Select[Any], ColumnElement[int]]:
        matches = _word_matches(words, below).subquery("older_matches")
        return select(matches.c.id), matches.c.id

    return _two_tiers(candidates, older, has_cursor)


def _by_relevance(page: Subquery) -> Select[Any]:
    columns = [*_summary_columns(), _snippet_source(), page.c.sort_key]
    return (
        _with_people(select(*columns).join(page, page.c.page_id == _i.id))
        .order_by(page.c.sort_key.desc(), page.c.page_id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _search_statement(words: int, has_cursor: bool) -> Sql:
    """The statement of a search for `words` plain words with no filter (docs/adr/0014)."""
    stmt = _SEARCH_STATEMENTS.get((words, has_cursor))
    if stmt is None:
        built = Sql(_by_relevance(_words_page(words, has_cursor)))
        stmt = _SEARCH_STATEMENTS.setdefault((words, has_cursor), built)
    return stmt


async def search_words(session: AsyncSession, text: str) -> list[str]:
    """The distinct search words (lexemes) of `text`, as PostgreSQL's 'english' stems them."""
    words = _LEXEME_CACHE.get(text)
    if words is None:
        row = await fetchrow(session, _LEXEMES, {"q": text})
        words = list(row[0]) if row is not None and row[0] else []
        if len(_LEXEME_CACHE) >= _LEXEME_CACHE_SIZE:
            _LEXEME_CACHE.clear()
        _LEXEME_CACHE[text] = words
    return words


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
        return _by_relevance(_ranked_page(shape, has_cursor))
    descending = sort.startswith("-")
    key: ColumnElement[Any] = SORT_KEYS[sort.lstrip("-")]

    conditions = _conditions(*shape)
    if has_cursor:
        bound = bindparam("cursor_key", type_=key.type)
        pair = tuple_(key, _i.id)
        after = tuple_(bound, bindparam("cursor_id", type_=Integer))
        conditions.append(pair < after if descending else pair > after)

    # The page is chosen first on the narrow index path; names, tags and snippets are computed
    # only for the rows that make it onto the page.
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
        columns.append(_snippet_source())
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
        if flt.text_alone() and plain_words(flt.text):
            words = flt.words
            if not words:
                return [], "sort_key"  # only words too common to index ("the", "of")
            if len(words) <= SEARCH_WORDS_MAX:
                params: dict[str, Any] = {f"lexeme_{i}": w for i, w in enumerate(words)}
                params.update(q=flt.text, limit=limit + 1)
                if cursor is not None:
                    params.update(cursor_key=cursor.key, cursor_id=cursor.id)
                search = _search_statement(len(words), cursor is not None)
                return await fetch(session, search, params), "sort_key"
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
    """An issue's page. Its counts are columns of `issues`, kept by the database (migration
    0009)."""
    stmt = _with_people(
        select(
            *_summary_columns(),
            _i.description,
            _i.description_html,
            _i.attachment_count,
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
        .where(User.is_active.is_(True), User.role.in_(STAFF_ROLES))
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
    count = counted.scalar_subquery()
    stmt = select(Tag.id, Tag.name, count.label("issue_count"))
    if scope_reporter_id is not None:
        # A tag's name says something about the issues that carry it: someone who sees only
        # their own issues sees only the tags on them.
        stmt = stmt.where(count > 0)
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
