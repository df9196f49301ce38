"""The `notifications` channel: each person's sockets hear their own unread count change, live,
and nobody else's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.notifications import service
from tracker.notifications.models import Kind, Notification
from tracker.roles import Role


async def _notify(sessionmaker: async_sessionmaker[AsyncSession], recipient: Any) -> int:
    async with sessionmaker() as session:
        row = Notification(
            recipient_id=recipient.id, kind=Kind.MENTIONED, summary="You were mentioned", event_id=1
        )
        session.add(row)
        await session.flush()
        await service.announce(session, recipient.id, row.id)
        await session.commit()
        return row.id


async def test_a_new_notification_and_reading_it_reach_the_persons_open_sockets(
    open_socket: Any, make_user: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    rita = await make_user(Role.REPORTER)
    mia = await make_user(Role.MAINTAINER)
    rita_tab, rita_other_tab = await open_socket(rita), await open_socket(rita)
    staff = await open_socket(mia)
    for client in (rita_tab, rita_other_tab, staff):
        ack = await client.subscribe("notifications")
        assert (ack["type"], ack["channel"]) == ("subscribed", "notifications")

    first = await _notify(sessionmaker, rita)
    for tab in (rita_tab, rita_other_tab):
        message = await tab.event(kind="notifications.changed")
        assert (message["channel"], message["data"]) == ("notifications", {"unread": 1})
    await _notify(sessionmaker, rita)
    assert (await rita_tab.event(kind="notifications.changed"))["data"] == {"unread": 2}

    async with sessionmaker() as session:
        await service.mark_read(session, rita.id, first)
        await session.commit()
    assert await rita_other_tab.event(kind="notifications.changed", data={"unread": 1})
    # Even staff, who see every issue's events, hear nothing of someone else's inbox.
    assert [m for m in await staff.quiet(0.5) if m.get("channel") == "notifications"] == []
