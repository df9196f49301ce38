"""Relevance search: the issues matching a text, best first, over a bounded set of candidates
(docs/adr/0011-bounded-search-ranking.md), read from search_terms (docs/adr/0014-search-terms.md).

A search of plain words with no other filter is answered from search_terms alone
(`search_by_words`); any other search finds its matches in `issues` and scores them from
search_terms (`ranked_statement`, which the list statement uses for `sort=rank`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.selectable import CTE

from tracker.cursors import Cursor
from tracker.db import Record, Sql, StatementCache, fetch, fetchrow
from tracker.issues.columns import ISSUES, snippet_source, summary_columns, with_people
from tracker.issues.filters import ListFilter, ListShape, conditions
from tracker.issues.models import search_terms
from tracker.issues.schemas import PAGE_MAX

_i = ISSUES.c

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


LEXEMES = Sql(select(_words_of_q()))
# What LEXEMES answered for recent texts: it depends on the text alone (the 'english'
# configuration is fixed), and asking costs a round trip per search. Emptied when full.
LEXEME_CACHE_SIZE = 4096
_lexemes: dict[str, list[str]] = {}


def _ranked() -> ColumnElement[int]:
    # Written into the SQL: the plan depends on it. Read at build time (tests lower it).
    return literal_column(str(int(RANKED_CANDIDATES)))


def plain_words(text: str) -> bool:
    """Whether websearch_to_tsquery reads `text` as nothing but words that must all appear."""
    return bool(_PLAIN_WORDS.fullmatch(text)) and "or" not in text.lower().split()


async def search_words(session: AsyncSession, text: str) -> list[str]:
    """The distinct search words (lexemes) of `text`, as PostgreSQL's 'english' stems them."""
    words = _lexemes.get(text)
    if words is None:
        row = await fetchrow(session, LEXEMES, {"q": text})
        words = list(row[0]) if row is not None and row[0] else []
        if len(_lexemes) >= LEXEME_CACHE_SIZE:
            _lexemes.clear()
        _lexemes[text] = words
    return words


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


def _ranked_page(shape: ListShape, has_cursor: bool) -> Subquery:
    """Any search, with any filters: the matches come from `issues` (its GIN index or a walk
    of another index, as PostgreSQL plans it); their scores from search_terms."""
    matches = (
        select(_i.id)
        .where(and_(True, *conditions(shape)))
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
        return select(_i.id).where(and_(True, *conditions(shape)), _i.id < below), _i.id

    return _two_tiers(candidates, older, has_cursor)


def _word_matches(words: int, below: ColumnElement[int] | None) -> Select[Any]:
    """Issues holding every word (id, score), newest first: each word's issues are read from
    search_terms' primary key in issue order and merged. Each list is its own subquery (OFFSET
    0) so that PostgreSQL merges the ordered lists instead of looking every issue of one word
    up in the others' (a lookup per issue costs ten times a step of the merge)."""
    lists = []
    for n in range(words):
        where = [search_terms.c.lexeme == bindparam(f"lexeme_{n}", type_=Text)]
        if below is not None:
            where.append(search_terms.c.issue_id < below)
        lists.append(
            select(search_terms.c.issue_id, search_terms.c.score)
            .where(*where)
            .order_by(search_terms.c.issue_id.desc())
            .offset(literal_column("0"))
            .subquery(f"word_{n}")
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
    columns = [*summary_columns(), snippet_source(), page.c.sort_key]
    return (
        with_people(select(*columns).join(page, page.c.page_id == _i.id))
        .order_by(page.c.sort_key.desc(), page.c.page_id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def ranked_statement(shape: ListShape, has_cursor: bool) -> Select[Any]:
    """A search page with any filters, by relevance (the list statement of `sort=rank`)."""
    return _by_relevance(_ranked_page(shape, has_cursor))


@StatementCache
def search_statement(words: int, has_cursor: bool) -> Select[Any]:
    """A search page for `words` plain words and no filter, from search_terms alone."""
    return _by_relevance(_words_page(words, has_cursor))


async def search_by_words(
    session: AsyncSession, flt: ListFilter, cursor: Cursor | None, limit: int
) -> list[Record] | None:
    """A relevance page answered from search_terms alone, with the row after it if there is
    one; None when the search is not plain words with nothing else filtering the list."""
    assert flt.text is not None
    if not (flt.shape().text_alone and plain_words(flt.text)):
        return None
    words = flt.words
    if not words:
        return []  # only words too common to index ("the", "of")
    if len(words) > SEARCH_WORDS_MAX:
        return None
    params: dict[str, Any] = {f"lexeme_{n}": w for n, w in enumerate(words)}
    params.update(q=flt.text, limit=limit + 1)
    if cursor is not None:
        params.update(cursor_key=cursor.key, cursor_id=cursor.id)
    return await fetch(session, search_statement(len(words), cursor is not None), params)
