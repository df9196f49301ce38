"""`tracker demo`: a fresh install filled with a team and its work, through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker import demo
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.comments.models import Comment
from tracker.config import Settings
from tracker.issues.models import Issue, Status
from tracker.roles import Role


async def test_the_demo_fills_a_fresh_install_once(
    app: FastAPI, settings: Settings, db: AsyncSession, client: httpx.AsyncClient
) -> None:
    said: list[str] = []
    made = await demo.fill(app, settings, issues=60, say=said.append)
    assert made["people"] == len(demo.PEOPLE) and made["issues"] == 60
    assert made["comments"] > 0 and made["files"] > 0

    roles = dict((await db.execute(select(User.role, func.count()).group_by(User.role))).all())
    assert roles == {Role.ADMIN: 1, Role.MAINTAINER: 3, Role.REPORTER: 8}
    statuses = set(await db.scalars(select(Issue.status).distinct()))
    assert {Status.OPEN, Status.DONE} <= statuses
    assert await db.scalar(select(func.count()).select_from(Comment)) == made["comments"]
    # The history is spread over the last weeks, each issue's events after its filing.
    oldest = await db.scalar(select(func.min(Issue.created_at)))
    assert oldest is not None and oldest < datetime.now(UTC) - timedelta(days=3)
    early = await db.scalar(
        select(func.count())
        .select_from(IssueEvent)
        .join(Issue, Issue.id == IssueEvent.issue_id)
        .where(IssueEvent.created_at < Issue.created_at - timedelta(seconds=1))
    )
    assert early == 0
    assert said == ["  50 issues…"]

    # The people can sign in with the password the demo printed.
    signed = await client.post(
        "/api/oauth/authorize",
        json={
            "email": "mia@example.com",
            "password": made["password"],
            "client_id": "web",
            "redirect_uri": settings.web_origin.rstrip("/") + "/auth/callback",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "state": "s",
        },
    )
    assert signed.status_code == 200, signed.text

    with pytest.raises(ValueError, match="has 60 issues already"):
        await demo.fill(app, settings, issues=5)
