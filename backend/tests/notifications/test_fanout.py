"""Who is told what (docs/notifications.md): changes made through the API, then the worker's
fan-out over the committed history, then each person's inbox as they read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.config import Settings
from tracker.notifications import fanout
from tracker.notifications.models import Notification
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


class Team:
    def __init__(self, client: httpx.AsyncClient, auth: Auth, db: AsyncSession, settings: Settings):
        self.client, self.auth, self.db, self.settings = client, auth, db, settings

    async def file(self, reporter: User, title: str, description: str = "") -> int:
        resp = await self.client.post(
            "/api/issues",
            json={"title": title, "description": description, "severity": "HIGH"},
            headers=self.auth(reporter),
        )
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])

    async def comment(self, who: User, issue_id: int, body: str) -> None:
        resp = await self.client.post(
            f"/api/issues/{issue_id}/comments", json={"body": body}, headers=self.auth(who)
        )
        assert resp.status_code == 201, resp.text

    async def change(self, who: User, issue_id: int, **fields: Any) -> None:
        current = await self.client.get(f"/api/issues/{issue_id}", headers=self.auth(who))
        resp = await self.client.patch(
            f"/api/issues/{issue_id}",
            json=fields,
            headers={**self.auth(who), "If-Match": current.headers["etag"]},
        )
        assert resp.status_code == 200, resp.text

    async def fan_out(self) -> dict[str, int]:
        result = await fanout.run(self.db, self.settings)
        await self.db.commit()
        return result

    async def inbox(self, who: User, **params: Any) -> dict[str, Any]:
        resp = await self.client.get("/api/notifications", params=params, headers=self.auth(who))
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def kinds(self, who: User) -> list[str]:
        return [n["kind"] for n in (await self.inbox(who))["items"]]


def team(client: httpx.AsyncClient, auth: Auth, db: AsyncSession, settings: Settings) -> Team:
    return Team(client, auth, db, settings)


async def test_a_mention_reaches_the_person_once_and_only_if_they_may_see_the_issue(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    other = await make_user(email="otto@example.com")
    mia = await make_user(Role.MAINTAINER, email="mia@example.com", full_name="Mia Maintainer")
    issue = await t.file(rita, "Checkout fails")
    await t.fan_out()

    await t.comment(mia, issue, "Thanks @rita — @otto, @mia and @nobody-at-all, see this")
    await t.fan_out()

    [note] = (await t.inbox(rita))["items"]
    assert note["kind"] == "mentioned"  # not also "commented": one per change
    assert note["summary"] == f"Mia Maintainer mentioned you on #{issue} Checkout fails"
    assert note["actor"] == {"id": mia.id, "full_name": "Mia Maintainer"}
    assert note["issue"] == {"id": issue, "title": "Checkout fails"}
    assert note["read_at"] is None
    assert await t.kinds(other) == []  # a REPORTER on someone else's issue
    assert await t.kinds(mia) == []  # never your own action


async def test_assignment_comments_and_status_reach_the_watchers(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER, full_name="Mia Maintainer")
    max_ = await make_user(Role.MAINTAINER, full_name="Max Maintainer")
    admin = await make_user(Role.ADMIN, full_name="Ada Admin")
    issue = await t.file(rita, "Export is empty")

    await t.change(mia, issue, assignee_id=max_.id)
    await t.fan_out()
    assert await t.kinds(max_) == ["assigned"]
    assert await t.kinds(rita) == []  # an assignment tells the assignee

    await t.comment(admin, issue, "Seen on 2.4 too")  # Ada now watches
    await t.fan_out()
    assert await t.kinds(rita) == ["commented"]
    assert await t.kinds(max_) == ["commented", "assigned"]
    assert await t.kinds(mia) == []  # Mia assigned it, but does not watch it

    await t.change(max_, issue, status="TRIAGED")
    await t.fan_out()
    [moved, *_] = (await t.inbox(admin))["items"]
    assert moved["kind"] == "status_changed"
    assert moved["summary"] == f"Max Maintainer moved #{issue} Export is empty from Open to Triaged"
    assert (await t.kinds(rita))[0] == "status_changed"
    assert (await t.kinds(max_))[0] == "commented"  # his own change: nothing new


async def test_watch_and_unwatch_choose_what_arrives(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Dark mode contrast")
    detail = (await client.get(f"/api/issues/{issue}", headers=auth(rita))).json()
    assert detail["watching"] is True  # the reporter watches
    assert (await client.get(f"/api/issues/{issue}", headers=auth(mia))).json()["watching"] is False

    assert (await client.put(f"/api/issues/{issue}/watch", headers=auth(mia))).status_code == 204
    assert (
        await client.delete(f"/api/issues/{issue}/watch", headers=auth(rita))
    ).status_code == 204
    assert (await client.get(f"/api/issues/{issue}", headers=auth(mia))).json()["watching"] is True
    assert (await client.get(f"/api/issues/{issue}", headers=auth(rita))).json()[
        "watching"
    ] is False

    await t.comment(max_, issue, "Reproduced")
    await t.fan_out()
    assert await t.kinds(mia) == ["commented"]
    assert await t.kinds(rita) == []
    # A REPORTER cannot watch an issue they may not see: the same 404 as for a missing one.
    stranger = await make_user()
    resp = await client.put(f"/api/issues/{issue}/watch", headers=auth(stranger))
    assert resp.status_code == 404


async def test_changes_by_one_person_within_a_minute_are_one_notification(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER, full_name="Mia")
    issue = await t.file(rita, "Totals ignore the discount")
    await t.comment(mia, issue, "Looking")
    await t.change(mia, issue, status="TRIAGED")
    await t.comment(mia, issue, "@rita can you send the order number?")
    await t.fan_out()

    page = await t.inbox(rita)
    [note] = page["items"]
    assert (note["kind"], note["changes"]) == ("mentioned", 3)
    assert page["unread"] == 1


async def test_people_who_lose_access_are_told_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Avatar upload fails")
    await t.comment(max_, issue, "Mine")  # Max watches
    await t.fan_out()
    await db.execute(update(User).where(User.id == max_.id).values(role=Role.REPORTER))
    await db.commit()

    await t.comment(mia, issue, "Fixed in 2.5")
    await t.fan_out()
    assert await t.kinds(max_) == []
    assert await t.kinds(rita) == ["commented", "commented"]  # from Max before, Mia now


async def test_the_inbox_pages_reads_and_counts(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    mia = await make_user(Role.MAINTAINER)
    reporters = [await make_user() for _ in range(3)]
    issues = [await t.file(r, f"Issue of {r.id}") for r in reporters]
    for issue in issues:
        await t.change(await make_user(Role.ADMIN), issue, assignee_id=mia.id)
    await t.fan_out()

    first = await t.inbox(mia, limit=2)
    assert [n["issue"]["id"] for n in first["items"]] == [issues[2], issues[1]]
    assert first["unread"] == 3 and first["next_cursor"]
    rest = await t.inbox(mia, limit=2, cursor=first["next_cursor"])
    assert [n["issue"]["id"] for n in rest["items"]] == [issues[0]]
    assert rest["next_cursor"] is None

    one = first["items"][0]["id"]
    read = await client.post(f"/api/notifications/{one}/read", headers=auth(mia))
    assert read.json() == {"unread": 2}
    unread = await t.inbox(mia, unread="true")
    assert one not in [n["id"] for n in unread["items"]]
    # Someone else's notification is not there to read.
    other = await client.post(f"/api/notifications/{one}/read", headers=auth(reporters[0]))
    assert other.status_code == 404
    assert other.json()["code"] == "notification_not_found"
    assert (await client.post("/api/notifications/read-all", headers=auth(mia))).json() == {
        "unread": 0
    }
    assert (await t.inbox(mia))["unread"] == 0


async def test_each_event_is_handled_once_even_when_the_fan_out_runs_again(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Search drops a character")
    await t.comment(mia, issue, "One")
    assert (await t.fan_out())["events"] == 2
    assert (await t.fan_out())["events"] == 0
    # A run that fails half-way rolls back with its cursor: the next one does it all again.
    await t.comment(mia, issue, "Two")
    await fanout.run(db, settings)
    await db.rollback()
    await t.fan_out()
    notes = (await t.inbox(rita))["items"]
    assert len(notes) == 1 and notes[0]["changes"] == 2
    assert await db.get(Notification, notes[0]["id"]) is not None


async def test_autocomplete_offers_only_people_who_could_see_the_issue(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com", full_name="Rita Reporter")
    await make_user(email="rick@example.com", full_name="Rick Reporter")
    mia = await make_user(Role.MAINTAINER, email="mia@example.com", full_name="Mia Maintainer")
    await make_user(Role.ADMIN, email="ada@example.com", full_name="Ada Admin")
    await make_user(Role.MAINTAINER, email="ria@example.com", is_active=False)
    issue = await t.file(rita, "Checkout fails")

    async def names(who: User, q: str) -> list[str]:
        resp = await client.get(
            "/api/users/mentionable", params={"issue_id": issue, "q": q}, headers=auth(who)
        )
        assert resp.status_code == 200, resp.text
        return [p["username"] for p in resp.json()]

    assert await names(mia, "ri") == ["rita"]  # not Rick (cannot see it), not inactive Ria
    assert await names(rita, "@m") == ["mia"]
    assert await names(mia, "admin") == ["ada"]  # by a word of the name
    assert set(await names(mia, "")) == {"rita", "mia", "ada"}
    stranger = await client.get(
        "/api/users/mentionable",
        params={"issue_id": issue, "q": "m"},
        headers=auth(await make_user()),
    )
    assert stranger.status_code == 404
