"""Event ids are drawn when a transaction commits (migration 0002), so id order is commit order
even when the transactions interleave."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.service import EVENT_ORDER_LOCK, NOTIFY_CHANNEL, record_event
from tracker.roles import Role


async def test_an_event_recorded_first_but_committed_last_gets_the_larger_id(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    make_issue: IssueFactory,
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    async with sessionmaker() as early, sessionmaker() as late:
        await record_event(
            early, issue_id=issue.id, reporter_id=staff.id, actor_id=staff.id, kind="first"
        )
        await record_event(
            late, issue_id=issue.id, reporter_id=staff.id, actor_id=staff.id, kind="second"
        )
        await late.commit()
        await early.commit()
    async with sessionmaker() as session:
        rows = await session.execute(
            text("SELECT kind FROM issue_events WHERE issue_ref = :id ORDER BY id"),
            {"id": issue.id},
        )
        kinds = [k for (k,) in rows if k in ("first", "second")]
    # A client that saw "second" and resumes after its id still gets "first".
    assert kinds == ["second", "first"]


async def test_a_rolled_back_event_leaves_no_row(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: UserFactory,
    make_issue: IssueFactory,
) -> None:
    staff = await make_user(Role.MAINTAINER)
    issue = await make_issue(staff)
    async with sessionmaker() as session:
        await record_event(
            session, issue_id=issue.id, reporter_id=staff.id, actor_id=None, kind="gone"
        )
        await session.rollback()
        count = await session.execute(text("SELECT count(*) FROM issue_events WHERE kind = 'gone'"))
        assert count.scalar_one() == 0


async def test_the_commit_trigger_uses_the_services_lock_and_channel(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        source = await session.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'issue_events_at_commit'")
        )
        body = source.scalar_one()
    assert f"pg_advisory_xact_lock({EVENT_ORDER_LOCK})" in body
    assert f"pg_notify('{NOTIFY_CHANNEL}'" in body
