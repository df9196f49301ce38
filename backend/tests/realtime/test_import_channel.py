"""The `import:<id>` channel: whoever started an import (or an ADMIN) follows its progress live;
anyone else is told it does not exist."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.imports import service
from tracker.imports.models import OnError, UnknownPeople
from tracker.roles import Role


async def test_an_imports_progress_reaches_its_starter_and_no_one_else(
    open_socket: Any,
    make_user: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(service, "PROGRESS_EVERY", 2)
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    source = b"title\n" + b"".join(b"Imported %d\n" % n for n in range(5))
    async with sessionmaker() as session:
        queued = await service.queue(
            session,
            mia,
            source=source,
            filename="five.csv",
            fmt="csv",
            mapping={},
            on_error=OnError.ABORT,
            unknown_reporters=UnknownPeople.REFUSE,
        )
        await session.commit()
    channel = f"import:{queued.id}"
    follower, stranger = await open_socket(mia), await open_socket(max_)
    assert (await follower.subscribe(channel))["type"] == "subscribed"
    refused = await stranger.subscribe(channel)
    assert (refused["type"], refused["code"]) == ("error", "import_not_found")
    assert (await stranger.subscribe("import:999999"))["code"] == "import_not_found"

    async with sessionmaker() as session:
        await service.run_next_import(session)
        await session.commit()
    seen = [(await follower.event(kind="import.progress", within=5))["data"] for _ in range(3)]
    assert [(d["state"], d.get("processed_rows")) for d in seen] == [
        ("running", 2),
        ("running", 4),
        ("done", 5),
    ]
    assert seen[-1]["created_count"] == 5
