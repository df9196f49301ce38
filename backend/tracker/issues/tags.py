"""SQL for tags: names looked up case-insensitively, created when new, linked to issues."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ARRAY,
    Insert,
    Integer,
    String,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.db import Sql, StatementCache, fetch
from tracker.issues.columns import TAGS
from tracker.issues.models import issue_tags

_t = TAGS.c

# The ids of tags by name, as lower-case names (`names` lower-case too).
TAG_IDS = Sql(
    select(_t.id, func.lower(_t.name).label("name")).where(
        func.lower(_t.name) == any_(bindparam("names", type_=ARRAY(String)))
    )
)

# Links an issue to tags by id; links it has already stay as they are.
ADD_TAGS = Sql(
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


@StatementCache
def new_tags_statement(count: int) -> Insert:
    """The tags named `name_0` … `name_<count-1>`, unless one of that name (in any case) exists."""
    return (
        insert(TAGS)
        .values([{"name": bindparam(f"name_{n}", type_=String())} for n in range(count)])
        .on_conflict_do_nothing(index_elements=[func.lower(_t.name)])
    )


_TAG_NAMES = Sql(
    select(_t.name)
    .join(issue_tags, issue_tags.c.tag_id == _t.id)
    .where(issue_tags.c.issue_id == bindparam("issue_id", type_=Integer))
    .order_by(_t.name)
)


async def tag_ids(session: AsyncSession, names: Sequence[str]) -> list[int] | None:
    """The ids of these tag names (case-insensitive), in the same order; None if one is unknown."""
    lowered = [name.lower() for name in names]
    found = {r["name"]: r["id"] for r in await fetch(session, TAG_IDS, {"names": lowered})}
    if len(found) < len(set(lowered)):
        return None
    return [found[name] for name in lowered]


async def ensure_tags(session: AsyncSession, names: Sequence[str]) -> list[int]:
    """Ids of the tags with these names (case-insensitive), creating the missing ones."""
    if not names:
        return []
    lowered = sorted({n.lower() for n in names})
    params = {"names": lowered}
    found: dict[str, int] = {
        r["name"]: r["id"] for r in await fetch(session, TAG_IDS, params, write=True)
    }
    missing = [n for n in names if n.lower() not in found]
    if missing:
        # Usually every tag exists already: only then is there something to insert (and a
        # concurrent request may have created it meanwhile, hence DO NOTHING and re-reading).
        new = {f"name_{n}": name for n, name in enumerate(missing)}
        await fetch(session, new_tags_statement(len(missing)), new, write=True)
        found = {r["name"]: r["id"] for r in await fetch(session, TAG_IDS, params, write=True)}
    return list(found.values())


async def tag_names(session: AsyncSession, issue_id: int) -> list[str]:
    """The issue's tags as they are spelt, sorted."""
    return [r["name"] for r in await fetch(session, _TAG_NAMES, {"issue_id": issue_id})]


async def add_issue_tags(session: AsyncSession, issue_id: int, tag_ids: Sequence[int]) -> None:
    if tag_ids:
        params = {"issue_id": issue_id, "tag_ids": list(tag_ids)}
        await fetch(session, ADD_TAGS, params, write=True)


async def set_issue_tags(session: AsyncSession, issue_id: int, tag_ids: Sequence[int]) -> None:
    """Make these the issue's tags: links to others go, missing ones are made."""
    await session.execute(
        delete(issue_tags).where(
            issue_tags.c.issue_id == issue_id, issue_tags.c.tag_id.not_in(list(tag_ids))
        )
    )
    await add_issue_tags(session, issue_id, tag_ids)
