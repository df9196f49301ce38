"""What pages ask the live feed over plain HTTP."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.realtime import repository
from tracker.realtime.schemas import StreamPosition


async def stream_position(session: AsyncSession) -> StreamPosition:
    """The newest event id: a page reads it BEFORE its data and subscribes with it as `since`.

    Event ids commit in id order (see activity/service.py), so every change not yet in data read
    afterwards has a larger id and is replayed on subscribe; none can fall in between.
    """
    return StreamPosition(position=await repository.latest_event_id(session))
