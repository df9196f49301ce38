"""What each row of an import would do: create an issue, update the one with its external id,
leave it as it is, or be refused with a reason a person can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.issues.export import FORMULA_STARTS
from tracker.issues.importing import existing_by_external_id
from tracker.issues.models import EXTERNAL_ID_MAX_LENGTH, Severity, Status
from tracker.issues.schemas import MAX_DESCRIPTION, normalize_tags
from tracker.roles import is_staff

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TITLE_MAX = 200
# The refusals an import keeps to show: the count is always exact.
REFUSALS_KEPT = 1000


class Refused(ValueError):
    pass


@dataclass
class RowPlan:
    number: int
    action: Literal["create", "update", "unchanged"]
    values: dict[str, Any]
    issue_id: int | None = None


@dataclass
class Plan:
    rows: list[RowPlan] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    # Addresses of reporters to create (inactive REPORTERs), when the import asks for it.
    new_people: set[str] = field(default_factory=set)

    def refuse(self, number: int, reason: str) -> None:
        self.refused += 1
        if len(self.refusals) < REFUSALS_KEPT:
            self.refusals.append({"row": number, "reason": reason})

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refused(f"{name} must be text")
    text = str(value)
    if "\x00" in text:
        raise Refused(f"{name} contains a NUL character")
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        text = text[1:]  # an export's guard against spreadsheet formulas (issues.export)
    return text.strip()


def _choice(values: dict[str, Any], name: str, kind: type[Severity] | type[Status]) -> Any:
    raw = _text(values, name).upper().replace(" ", "_").replace("-", "_")
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise Refused(f"{name} {raw!r} is not one of {allowed}") from None


def _tags(values: dict[str, Any]) -> list[str]:
    raw = values.get("tags")
    if raw is None:
        return []
    if isinstance(raw, list):
        parts = [str(t) for t in raw]
    elif isinstance(raw, str):
        parts = [t for t in raw.split(",") if t.strip()]
    else:
        raise Refused("tags must be text, comma-separated, or a list")
    try:
        return normalize_tags(parts)
    except ValueError as exc:
        raise Refused(str(exc)) from None


def _created_at(values: dict[str, Any], now: datetime) -> datetime | None:
    raw = _text(values, "created_at")
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise Refused(f"created_at {raw!r} is not an ISO 8601 date or time") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > now:
        raise Refused(f"created_at {raw!r} is in the future")
    return when


def _email(values: dict[str, Any], name: str) -> str | None:
    raw = _text(values, name).lower()
    if raw and not _EMAIL.fullmatch(raw):
        raise Refused(f"{name} {raw!r} is not an e-mail address")
    return raw or None


def clean(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A row's fields checked and normalised, or Refused saying what is wrong."""
    title = _text(values, "title")
    if not title:
        raise Refused("title is empty")
    if len(title) > TITLE_MAX:
        raise Refused(f"title is longer than {TITLE_MAX} characters")
    description = _text(values, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Refused(f"description is longer than {MAX_DESCRIPTION:,} characters")
    external_id = _text(values, "external_id") or None
    if external_id and len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        raise Refused(f"external_id is longer than {EXTERNAL_ID_MAX_LENGTH} characters")
    return {
        "title": title,
        "description": description,
        "severity": _choice(values, "severity", Severity),
        "status": _choice(values, "status", Status),
        "tags": _tags(values),
        "reporter_email": _email(values, "reporter_email"),
        "assignee_email": _email(values, "assignee_email"),
        "created_at": _created_at(values, now),
        "external_id": external_id,
    }


async def _people(session: AsyncSession, emails: set[str]) -> dict[str, User]:
    if not emails:
        return {}
    found = await session.scalars(select(User).where(func.lower(User.email).in_(sorted(emails))))
    return {u.email.lower(): u for u in found}


def _resolve_people(
    values: dict[str, Any], people: dict[str, User], *, create_unknown: bool, plan: Plan
) -> None:
    reporter = values.pop("reporter_email")
    values["reporter_id"] = None  # the importer, unless the row names someone
    if reporter:
        if reporter in people:
            values["reporter_id"] = people[reporter].id
        elif create_unknown:
            plan.new_people.add(reporter)
            values["reporter_email"] = reporter
        else:
            raise Refused(f"reporter_email {reporter!r} is nobody here")
    assignee = values.pop("assignee_email")
    values["assignee_id"] = None
    if assignee:
        person = people.get(assignee)
        if person is None or not person.is_active or not is_staff(person):
            raise Refused(f"assignee_email {assignee!r} is not an active maintainer or admin")
        values["assignee_id"] = person.id


def _same(values: dict[str, Any], current: dict[str, Any]) -> bool:
    return (
        values["title"] == current["title"]
        and values["description"] == current["description"]
        and (values["severity"] or current["severity"]) == current["severity"]
        and (values["status"] or current["status"]) == current["status"]
        and sorted(values["tags"]) == sorted(current["tags"])
        and values["assignee_id"] == current["assignee_id"]
    )


async def plan_rows(
    session: AsyncSession,
    rows: list[tuple[int, dict[str, Any]]],
    *,
    create_unknown: bool,
) -> Plan:
    plan = Plan()
    now = datetime.now(UTC)
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for number, values in rows:
        try:
            cleaned.append((number, clean(values, now)))
        except Refused as exc:
            plan.refuse(number, str(exc))
    emails = {
        e for _, v in cleaned for e in (v["reporter_email"], v["assignee_email"]) if e is not None
    }
    people = await _people(session, emails)
    existing = await existing_by_external_id(
        session, [v["external_id"] for _, v in cleaned if v["external_id"]]
    )
    seen: dict[str, int] = {}
    for number, values in cleaned:
        try:
            external_id = values["external_id"]
            if external_id is not None:
                if external_id in seen:
                    raise Refused(f"external_id {external_id!r} is on row {seen[external_id]} too")
                seen[external_id] = number
            _resolve_people(values, people, create_unknown=create_unknown, plan=plan)
        except Refused as exc:
            plan.refuse(number, str(exc))
            continue
        current = existing.get(external_id) if external_id else None
        if current is None:
            plan.rows.append(RowPlan(number, "create", values))
        else:
            action: Literal["update", "unchanged"] = (
                "unchanged" if _same(values, current) else "update"
            )
            plan.rows.append(RowPlan(number, action, values, issue_id=current["id"]))
    return plan
