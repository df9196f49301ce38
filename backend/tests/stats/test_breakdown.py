"""GET /api/stats/breakdown: open issues by tag, time to triage and to resolve per severity,
and where issues came from, scoped like every dashboard number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def _file(client: httpx.AsyncClient, auth: Auth, user: User, **fields: Any) -> int:
    made = await client.post("/api/issues", json=fields, headers=auth(user))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _move(client: httpx.AsyncClient, auth: Auth, user: User, issue: int, *steps: str) -> None:
    for status in steps:
        current = await client.get(f"/api/issues/{issue}", headers=auth(user))
        moved = await client.patch(
            f"/api/issues/{issue}",
            json={"status": status},
            headers={**auth(user), "If-Match": current.headers["etag"]},
        )
        assert moved.status_code == 200, moved.text


def _by_severity(items: list[dict[str, Any]]) -> dict[str, tuple[float | None, int]]:
    return {i["severity"]: (i["median_seconds"], i["samples"]) for i in items}


async def test_the_breakdown_counts_tags_medians_and_sources(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, db: AsyncSession
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)
    a = await _file(client, auth, rae, title="Safari crash", severity="HIGH", tags=["safari", "ui"])
    b = await _file(client, auth, mia, title="Safari slow", severity="HIGH", tags=["safari"])
    c = await _file(client, auth, mia, title="Done one", severity="LOW", tags=["ui", "safari"])
    # Filed two and four hours ago: triage then takes that long.
    for issue, hours in ((a, 2), (b, 4), (c, 1)):
        await db.execute(
            text("UPDATE issues SET created_at = now() - make_interval(hours => :h) WHERE id = :i"),
            {"h": hours, "i": issue},
        )
    await db.commit()
    await _move(client, auth, mia, a, "TRIAGED")
    await _move(client, auth, mia, b, "TRIAGED")
    await _move(client, auth, mia, c, "TRIAGED", "IN_PROGRESS", "DONE")

    answer = await client.get("/api/stats/breakdown?days=7", headers=auth(mia))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "all"
    # c is DONE: only open issues count per tag.
    assert body["open_by_tag"] == [{"tag": "safari", "count": 2}, {"tag": "ui", "count": 1}]
    triage = _by_severity(body["time_to_triage"])
    median, samples = triage["HIGH"]
    assert samples == 2 and median is not None and 3 * 3600 - 60 < median < 3 * 3600 + 600
    assert triage["CRITICAL"] == (None, 0)
    resolve = _by_severity(body["time_to_resolve"])
    assert resolve["LOW"][1] == 1 and 3600 - 60 < resolve["LOW"][0] < 3600 + 600
    assert resolve["HIGH"] == (None, 0)
    assert body["sources"] == [{"source": "app", "count": 3}, {"source": "import", "count": 0}]

    own = (await client.get("/api/stats/breakdown?days=7", headers=auth(rae))).json()
    assert own["scope"] == "own"
    assert own["open_by_tag"] == [{"tag": "safari", "count": 1}, {"tag": "ui", "count": 1}]
    assert _by_severity(own["time_to_triage"])["HIGH"][1] == 1
    assert own["sources"][0] == {"source": "app", "count": 1}

    bad = await client.get("/api/stats/breakdown?days=0", headers=auth(mia))
    assert bad.status_code == 422
