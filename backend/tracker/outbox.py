"""Outboxes: whatever must reach the outside is a row written with the change that causes it.

Every kind (webhook deliveries, e-mail…) keeps its rows in its own table with the columns of
`OutboxRow`, and the worker moves them through the same steps:

1. `claim` takes due rows with `FOR UPDATE SKIP LOCKED` and marks the attempt: `tries + 1`
   and a lease (`leased_until`) during which no other run takes the row. The caller commits
   the claim before it sends anything, so an overlapping run skips what is being sent.
2. The caller sends each claimed row, identified by its stable id.
3. `settle` records the outcome: DELIVERED, or PENDING again at the next step of the backoff,
   or FAILED once the backoff is spent. A claim whose lease ran out and was taken by a later
   run no longer settles the row (the later run owns it).

A rolled-back change writes no row, so it sends nothing; a crash after a claim leaves the row
leased, and the first run after the lease ends sends it again under the same id, so at most
what was in flight is sent twice and a receiver can tell the repeat.

Time is an input (`now`) everywhere, so tests move the clock instead of waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Index,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import str_enum


class OutboxState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Backoff:
    """How long to wait after each failed try: after try n, `delays[n - 1]`; after the last
    delay's try fails too, give up. So `len(delays) + 1` tries in all."""

    delays: tuple[timedelta, ...]

    @property
    def max_tries(self) -> int:
        return len(self.delays) + 1

    def next_attempt(self, tries: int, now: datetime) -> datetime | None:
        """When to try again after failed try number `tries` (1-based); None: give up."""
        if tries < 1 or tries > len(self.delays):
            return None
        return now + self.delays[tries - 1]


class OutboxRow:
    """The columns every outbox table has (mixed into its model)."""

    state: Mapped[OutboxState] = mapped_column(
        str_enum(OutboxState, "state"),
        default=OutboxState.PENDING,
        server_default=OutboxState.PENDING.value,
    )
    # Tries in the current schedule (a requeue starts a new one).
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # When a PENDING row is due; NULL once it is settled for good.
    next_attempt_at: Mapped[datetime | None]
    # Set by a claim: no other run takes the row before then.
    leased_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    # When it was delivered or given up on.
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


def outbox_indexes(table_name: str) -> tuple[Index, Index]:
    """The indexes an outbox table needs: due rows in order, and finished rows by age (pruning)."""
    return (
        Index(
            f"ix_{table_name}_due",
            "next_attempt_at",
            postgresql_where=text("state = 'PENDING'"),
        ),
        Index(
            f"ix_{table_name}_finished_at",
            "finished_at",
            postgresql_where=text("state <> 'PENDING'"),
        ),
    )


@dataclass(frozen=True, slots=True)
class Claim:
    """A row taken for one try: `lease` is the claim's token when it settles."""

    id: Any
    tries: int
    lease: datetime


async def claim(
    session: AsyncSession,
    table: Table,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any]] = (),
) -> list[Claim]:
    """Take up to `limit` due rows (oldest due first, then in `order_by`, else by id) that no
    other run holds, in this transaction; commit before sending so the lease is what other
    runs see."""
    c = table.c
    due = (
        select(c.id)
        .where(
            c.state == OutboxState.PENDING,
            c.next_attempt_at <= now,
            or_(c.leased_until.is_(None), c.leased_until <= now),
            *where,
        )
        .order_by(c.next_attempt_at, *(order_by or [c.id]))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(table)
        .where(c.id == due.c.id)
        .values(tries=c.tries + 1, leased_until=now + lease, last_attempt_at=now)
        .returning(c.id, c.tries, c.leased_until)
    )
    return [Claim(row[0], row[1], row[2]) for row in (await session.execute(stmt)).all()]


@dataclass(frozen=True, slots=True)
class Outcome:
    claim: Claim
    delivered: bool


def state_after(outcome: Outcome, backoff: Backoff, now: datetime) -> dict[str, Any]:
    """The row's outbox columns once this try is over."""
    if outcome.delivered:
        return {"state": OutboxState.DELIVERED, "next_attempt_at": None, "finished_at": now}
    retry_at = backoff.next_attempt(outcome.claim.tries, now)
    if retry_at is None:
        return {"state": OutboxState.FAILED, "next_attempt_at": None, "finished_at": now}
    return {"state": OutboxState.PENDING, "next_attempt_at": retry_at, "finished_at": None}


async def settle(
    session: AsyncSession,
    table: Table,
    outcomes: Sequence[Outcome],
    *,
    backoff: Backoff,
    now: datetime,
) -> dict[OutboxState, int]:
    """Record each try's result on its row (flushed in the session's transaction); returns
    how many rows are now in each state. Rows claimed again meanwhile are left alone."""
    counts = dict.fromkeys(OutboxState, 0)
    if not outcomes:
        return counts
    c = table.c
    stmt = (
        update(table)
        .where(c.id == bindparam("b_id"), c.leased_until == bindparam("b_lease"))
        .values(
            state=bindparam("b_state"),
            next_attempt_at=bindparam("b_next"),
            finished_at=bindparam("b_finished"),
            leased_until=None,
        )
    )
    params = []
    for outcome in outcomes:
        after = state_after(outcome, backoff, now)
        counts[after["state"]] += 1
        params.append(
            {
                "b_id": outcome.claim.id,
                "b_lease": outcome.claim.lease,
                "b_state": after["state"],
                "b_next": after["next_attempt_at"],
                "b_finished": after["finished_at"],
            }
        )
    await session.execute(stmt, params)
    return counts


async def requeue(
    session: AsyncSession, table: Table, row_id: Any, *, now: datetime
) -> bool | None:
    """Queue a row again now, with a new schedule of tries. None if there is no such row,
    False if a try is in flight (leased), True when queued."""
    c = table.c
    stmt = (
        update(table)
        .where(c.id == row_id, or_(c.leased_until.is_(None), c.leased_until <= now))
        .values(
            state=OutboxState.PENDING,
            tries=0,
            next_attempt_at=now,
            finished_at=None,
            leased_until=None,
        )
        .returning(c.id)
    )
    if (await session.execute(stmt)).first() is not None:
        return True
    exists = await session.execute(select(c.id).where(c.id == row_id))
    return False if exists.first() is not None else None


async def prune(
    session: AsyncSession,
    table: Table,
    *,
    before: datetime,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Delete up to `limit` rows settled for good before `before`; returns how many."""
    c = table.c
    old = (
        select(c.id)
        .where(and_(c.state != OutboxState.PENDING, c.finished_at < before, *where))
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(table.delete().where(c.id.in_(old)).returning(c.id))
    return len(result.all())
