"""What narrows an issue list: the filter a request asks for, its shape (which decides the SQL
text), and the WHERE conditions a shape makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, String, any_, bindparam, func, select

from tracker.issues.columns import ISSUES
from tracker.issues.models import Severity, Status, issue_tags

_i = ISSUES.c

TSQUERY = func.websearch_to_tsquery("english", bindparam("q", type_=String))


@dataclass(frozen=True, slots=True)
class ListShape:
    """Which filters a list has: what decides its statement's SQL text, never a parameter value.
    Hashable, so it keys the statement cache (tracker.db.StatementCache)."""

    scoped: bool = False  # the caller sees only what they reported
    statuses: bool = False
    severities: bool = False
    tags: int = 0  # how many tags must all be on an issue
    text: bool = False
    unassigned: bool = False
    assignee: bool = False
    reporter: bool = False

    @property
    def narrowed(self) -> bool:
        """Whether anything but the sort order decides which issues are listed."""
        return self.text or self.narrowed_besides_text

    @property
    def narrowed_besides_text(self) -> bool:
        return bool(
            self.scoped
            or self.statuses
            or self.severities
            or self.tags
            or self.unassigned
            or self.assignee
            or self.reporter
        )

    @property
    def text_alone(self) -> bool:
        """A search of every issue: nothing but the text narrows the list."""
        return self.text and not self.narrowed_besides_text


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
    # The text's search words (search.search_words), for a search.
    words: Sequence[str] = ()

    def shape(self) -> ListShape:
        return ListShape(
            scoped=self.scope_reporter_id is not None,
            statuses=bool(self.statuses),
            severities=bool(self.severities),
            tags=len(self.tags),
            text=self.text is not None,
            unassigned=self.unassigned,
            assignee=self.assignee_id is not None,
            reporter=self.reporter_id is not None,
        )

    def params(self) -> dict[str, Any]:
        """The values of the conditions' parameters (the tags' ids are looked up apart)."""
        return {
            "scope_reporter_id": self.scope_reporter_id,
            "statuses": list(self.statuses),
            "severities": list(self.severities),
            "q": self.text,
            "assignee_id": self.assignee_id,
            "reporter_id": self.reporter_id,
        }


def conditions(shape: ListShape) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a list of this shape, as parameters named as in ListFilter.params()
    (and `tag_id_<n>` for each tag)."""
    out: list[ColumnElement[bool]] = []
    if shape.scoped:
        out.append(_i.reporter_id == bindparam("scope_reporter_id"))
    if shape.statuses:
        out.append(_i.status == any_(bindparam("statuses", type_=ARRAY(String))))
    if shape.severities:
        out.append(_i.severity == any_(bindparam("severities", type_=ARRAY(String))))
    for n in range(shape.tags):
        # The tag's id is a parameter (list_page looks the names up first), so PostgreSQL plans
        # for that tag: its statistics know `bug` is on a third of the issues and `ldap` on a few
        # dozen, and choose between walking the sort order and fetching the tag's issues.
        tag_id = bindparam(f"tag_id_{n}", type_=Integer)
        out.append(_i.id.in_(select(issue_tags.c.issue_id).where(issue_tags.c.tag_id == tag_id)))
    if shape.text:
        out.append(_i.search.bool_op("@@")(TSQUERY))
    if shape.unassigned:
        out.append(_i.assignee_id.is_(None))
    elif shape.assignee:
        out.append(_i.assignee_id == bindparam("assignee_id"))
    if shape.reporter:
        out.append(_i.reporter_id == bindparam("reporter_id"))
    return out
