"""SQL that files a new issue: the issue and its tags in one statement, or the issue, its tags
and its `issue.created` event in one statement that needs no transaction around it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from tracker.activity.models import IssueEvent
from tracker.db import Record, Sql, fetchrow
from tracker.issues.columns import ISSUES, TAGS
from tracker.issues.models import issue_tags

_i = ISSUES.c
_t = TAGS.c
_events: Table = IssueEvent.__table__  # type: ignore[assignment]

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
    issue = insert(ISSUES).values(_new_issue_values()).returning(*_NEW_ISSUE_RETURNED).cte("issue")
    tagged = _attach_tags(issue, bindparam("tag_names", type_=ARRAY(String)))
    count = select(func.count()).select_from(tagged).scalar_subquery()
    return Sql(select(*issue.c, count.label("tagged")))


INSERT_ISSUE = _insert_statement()


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
        insert(ISSUES)
        .from_select(list(values), select(*values.values()).where(known == wanted))
        .returning(*_NEW_ISSUE_RETURNED)
        .cte("issue")
    )
    tagged = _attach_tags(issue, names)
    event_columns = ("reporter_id", "actor_id", "kind", "data")
    event = (
        insert(_events)
        .from_select(
            ["issue_id", "issue_ref", *event_columns],
            select(
                issue.c.id,
                issue.c.id,
                *(bindparam(f"event_{name}", type_=_events.c[name].type) for name in event_columns),
            ),
        )
        .returning(_events.c.issue_ref)
        .cte("event")
    )
    # Each data-modifying CTE runs whether or not the result reads it; reading them keeps the
    # statement honest about what it does.
    written = select(func.count()).select_from(tagged).scalar_subquery()
    recorded = select(func.count()).select_from(event).scalar_subquery()
    return Sql(select(*issue.c, written.label("tagged"), recorded.label("events")))


INSERT_ISSUE_ALONE = _insert_alone_statement()


async def insert_issue(session: AsyncSession, values: dict[str, Any], tags: list[str]) -> Record:
    """Insert the issue with those of its (lower-case, distinct) tags that exist already; the
    row's `tagged` says how many that was."""
    row = await fetchrow(session, INSERT_ISSUE, {**values, "tag_names": tags}, write=True)
    assert row is not None
    return row


async def insert_issue_alone(
    session: AsyncSession, values: dict[str, Any], tags: list[str], event: dict[str, Any]
) -> Record | None:
    """File an issue whose tags all exist already, with its event, as one statement (outside a
    transaction: the request's first write). None, and nothing written, when a tag is new."""
    params = {**values, "tag_names": tags, **{f"event_{k}": v for k, v in event.items()}}
    return await fetchrow(session, INSERT_ISSUE_ALONE, params)
