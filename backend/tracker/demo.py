"""`tracker demo`: a fresh install filled with a team and its work, for evaluating the tracker.

Everything goes through the API in this process, as a browser's requests would (the same
rules, history, notifications and files), then the history is spread over the last weeks so
the dashboard has trends to show. Only into an install without issues: it never mixes made-up
work with real work.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select, text

from tracker import migrations
from tracker.app import create_app
from tracker.auth.accounts import create_user
from tracker.auth.models import User
from tracker.auth.service import start_session
from tracker.auth.sessions import end_all_sessions
from tracker.config import Settings
from tracker.issues.models import Issue
from tracker.localdb import database
from tracker.roles import Role

PEOPLE = [
    ("Ada Lindqvist", "ada", Role.ADMIN),
    ("Mia Okafor", "mia", Role.MAINTAINER),
    ("Tomás Reyes", "tomas", Role.MAINTAINER),
    ("Priya Nair", "priya", Role.MAINTAINER),
    *(
        (name, name.split()[0].lower(), Role.REPORTER)
        for name in (
            "Rae Whitfield",
            "Kenji Watanabe",
            "Lena Fischer",
            "Omar Haddad",
            "Sofia Rossi",
            "Noah Bennett",
            "Zoe Martin",
            "Ivan Petrov",
        )
    ),
]
AREAS = [
    "Login",
    "Checkout",
    "CSV export",
    "Search",
    "Dashboard",
    "Uploads",
    "Settings",
    "Notifications",
    "Mobile app",
    "Billing",
    "Onboarding",
    "API",
]
PROBLEMS = [
    ("{area} page returns 500 on Safari", "bug", "HIGH"),
    ("{area} is slow with more than 1,000 rows", "performance", "MEDIUM"),
    ("{area}: button does nothing on the first click", "bug", "MEDIUM"),
    ("Add keyboard shortcuts to {area}", "feature", "LOW"),
    ("{area} crashes after the last update", "crash", "CRITICAL"),
    ("Typo and unclear wording in {area}", "copy", "LOW"),
    ("{area} loses my changes when the connection drops", "bug", "HIGH"),
    ("Dark mode contrast too low in {area}", "accessibility", "MEDIUM"),
    ("Allow filtering {area} by date", "feature", "LOW"),
    ("{area} times out for large accounts", "performance", "HIGH"),
]
DESCRIPTION = """**Steps to reproduce**

1. Open {area_lower} as a regular user
2. {step}
3. Watch what happens

**Expected:** it works as it did last week.

**Actual:** {actual}

Seen on {browser}, version {version}.
"""
STEPS = [
    "Click the primary button twice",
    "Upload a 20 MB file",
    "Switch to the second tab",
    "Paste a long list of addresses",
    "Resize the window to a phone width",
]
ACTUALS = [
    "a blank page and a spinner that never stops",
    "the error `ERR_TIMEOUT` after 30 s",
    "a duplicate entry",
    "nothing at all",
    "the page jumps back to the top",
]
COMMENTS = [
    "I can reproduce this on {browser} too.",
    "Still happening after today's deploy.",
    "Looking into it now.",
    "This blocks our month-end reporting, any news?",
    "Found the cause: a missing index. Fix coming.",
    "@{handle} can you confirm the steps?",
    "Workaround: reload the page once.",
    "Attached the log from my machine.",
]
BROWSERS = ["Safari", "Firefox", "Chrome", "Edge"]
STEPS_TO = ["TRIAGED", "IN_PROGRESS", "DONE"]


def _png(rng: random.Random) -> bytes:
    image = Image.new("RGB", (320, 200), tuple(rng.randrange(60, 230) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class _Api:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[int, str]) -> None:
        self.client, self.tokens = client, tokens

    def auth(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}

    async def call(self, user: User, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        headers = {**self.auth(user), **kwargs.pop("headers", {})}
        answer = await self.client.request(method, url, headers=headers, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else {}

    async def move(self, user: User, issue: int, **fields: Any) -> None:
        current = await self.client.get(f"/api/issues/{issue}", headers=self.auth(user))
        await self.call(
            user,
            "PATCH",
            f"/api/issues/{issue}",
            json=fields,
            headers={"If-Match": current.headers["etag"]},
        )


async def _people(app: Any, settings: Settings, password: str) -> dict[User, str]:
    """The team, each signed in (a session of their own, ended when the demo is filled)."""
    async with app.state.sessionmaker() as session:
        made: dict[User, str] = {}
        for name, handle, role in PEOPLE:
            user = await create_user(
                session,
                email=f"{handle}@example.com",
                password=password,
                full_name=name,
                role=role,
                username=handle,
            )
            made[user] = (await start_session(session, settings, user_id=user.id)).access_token
        await session.commit()
        return made


async def fill(
    app: Any,
    settings: Settings,
    *,
    issues: int = 300,
    seed: int = 7,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fill the install behind `app` (running, migrated, without issues); the people's password
    and the counts are returned."""
    async with app.state.sessionmaker() as session:
        existing = await session.scalar(select(func.count()).select_from(Issue)) or 0
    if existing:
        raise ValueError(
            f"This install has {existing} issues already: demo data goes into a fresh one only"
        )
    rng = random.Random(seed)  # noqa: S311 - made-up data, the same for the same seed
    password = "demo-" + secrets.token_urlsafe(9)
    signed_in = await _people(app, settings, password)
    people = list(signed_in)
    staff = [p for p in people if p.role != Role.REPORTER]
    maintainers = [p for p in people if p.role == Role.MAINTAINER]
    counts = {"people": len(people), "issues": 0, "comments": 0, "files": 0}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        api = _Api(client, {user.id: token for user, token in signed_in.items()})
        for n in range(issues):
            area = rng.choice(AREAS)
            title, tag, severity = rng.choice(PROBLEMS)
            reporter = rng.choice(people)
            browser = rng.choice(BROWSERS)
            body = DESCRIPTION.format(
                area_lower=area.lower(),
                step=rng.choice(STEPS),
                actual=rng.choice(ACTUALS),
                browser=browser,
                version=rng.randrange(100, 140),
            )
            tags = sorted(
                {tag, area.lower().replace(" ", "-")}
                | set(
                    rng.sample(["customer", "regression", "needs-info", "v2"], rng.randrange(0, 2))
                )
            )
            made = await api.call(
                reporter,
                "POST",
                "/api/issues",
                json={
                    "title": title.format(area=area),
                    "description": body,
                    "severity": severity,
                    "tags": tags,
                },
            )
            issue = int(made["id"])
            counts["issues"] += 1
            if rng.random() < 0.15:
                png = rng.random() < 0.5
                content = _png(rng) if png else f"ERROR {area} request failed\n".encode() * 40
                name, kind = (
                    ("screenshot.png", "image/png") if png else ("console.log", "text/plain")
                )
                await api.call(
                    reporter,
                    "POST",
                    f"/api/issues/{issue}/attachments",
                    files={"file": (name, content, kind)},
                )
                counts["files"] += 1
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                who = rng.choice([reporter, *staff])
                text_ = rng.choice(COMMENTS).format(
                    browser=rng.choice(BROWSERS), handle=reporter.username
                )
                await api.call(who, "POST", f"/api/issues/{issue}/comments", json={"body": text_})
                counts["comments"] += 1
            lead = rng.choice(maintainers)
            for status in STEPS_TO[: rng.choice([0, 0, 1, 1, 2, 3, 3])]:
                fields: dict[str, Any] = {"status": status}
                if status == "IN_PROGRESS":
                    fields["assignee_id"] = lead.id
                await api.move(lead, issue, **fields)
            if n and n % 50 == 0:
                say(f"  {n} issues…")
    await _spread_over_weeks(app, rng)
    async with app.state.sessionmaker() as session:
        for user in people:
            await end_all_sessions(session, user.id)
        await session.commit()
    return {"password": password, **counts}


# Moves a timestamp back by :back seconds.
_MOVE_EVENTS = text(
    "UPDATE issue_events SET created_at = created_at - make_interval(secs => CAST(:back AS float8))"
    " WHERE issue_ref = :id"
)
_MOVE_ISSUE = text(
    "UPDATE issues SET"
    " created_at = created_at - make_interval(secs => CAST(:back AS float8)),"
    " updated_at = updated_at - make_interval(secs => CAST(:back AS float8) / 2),"
    " resolved_at = resolved_at - make_interval(secs => CAST(:back AS float8) / 2)"
    " WHERE id = :id"
)


async def _spread_over_weeks(app: Any, rng: random.Random, days: int = 60) -> None:
    """Each issue filed at some point of the last `days` days, its history after it in order."""
    async with app.state.sessionmaker() as session:
        ids = list(await session.scalars(select(Issue.id).order_by(Issue.id)))
        span = timedelta(days=days).total_seconds()
        for issue_id in ids:
            params = {"back": rng.uniform(3600, span), "id": issue_id}
            await session.execute(_MOVE_EVENTS, params)
            await session.execute(_MOVE_ISSUE, params)
        await session.commit()


def run(settings: Settings, *, issues: int, say: Callable[[str], None]) -> None:
    """`tracker demo`: the app started in this process on the configured database, then filled."""

    async def main(settings: Settings) -> dict[str, Any]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            return await fill(app, settings, issues=issues, say=say)

    with database(settings) as url:
        migrations.upgrade(url)
        say(f"Filling this install with a made-up team and {issues} issues…")
        # Hundreds of requests in this process: their access log is noise here.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        quiet = settings.model_copy(update={"database_url": url, "log_level": "WARNING"})
        made = asyncio.run(main(quiet))
    say(
        f"Made {made['people']} people, {made['issues']} issues, {made['comments']} comments "
        f"and {made['files']} files. Sign in as ada@example.com (ADMIN), mia@example.com "
        f"(MAINTAINER) or rae@example.com (REPORTER) with the password {made['password']}"
    )
