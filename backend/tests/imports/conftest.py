from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth.models import User
from tracker.imports.service import run_next_import

Auth = Callable[[User], dict[str, str]]


def csv_file(rows: list[dict[str, Any]], *, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def reports(n: int, *, prefix: str = "Report") -> list[dict[str, Any]]:
    severities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    statuses = ["OPEN", "TRIAGED", "IN_PROGRESS", "DONE"]
    return [
        {
            "external_id": f"ZD-{k}",
            "title": f"{prefix} {k}: export fails",
            "description": f"Seen by customer {k}",
            "severity": severities[k % 4],
            "status": statuses[k % 4],
            "tags": "support, imported" if k % 2 else "support",
            "created_at": f"2025-{k % 12 + 1:02d}-{k % 28 + 1:02d}T10:00:00Z",
        }
        for k in range(1, n + 1)
    ]


class Importer:
    def __init__(
        self,
        client: httpx.AsyncClient,
        auth: Auth,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.client, self.auth, self.sessionmaker = client, auth, sessionmaker

    async def send(
        self,
        user: User,
        content: bytes,
        *,
        filename: str = "reports.csv",
        dry_run: bool = False,
        **fields: Any,
    ) -> httpx.Response:
        data = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in fields.items()}
        return await self.client.post(
            "/api/imports" + ("?dry_run=true" if dry_run else ""),
            files={"file": (filename, content, "text/csv")},
            data=data,
            headers=self.auth(user),
        )

    async def run(self) -> dict[str, int]:
        """The worker's job, once, as the scheduler runs it (the runner commits)."""
        async with self.sessionmaker() as session:
            result = await run_next_import(session)
            await session.commit()
            return result

    async def get(self, user: User, import_id: int) -> dict[str, Any]:
        answer = await self.client.get(f"/api/imports/{import_id}", headers=self.auth(user))
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def importer(
    client: httpx.AsyncClient, auth: Auth, sessionmaker: async_sessionmaker[AsyncSession]
) -> Importer:
    return Importer(client, auth, sessionmaker)
