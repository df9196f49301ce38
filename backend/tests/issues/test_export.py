"""GET /api/issues/export: the list's filters, scoped like the list, streamed as CSV or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.issues import export
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def _file(client: httpx.AsyncClient, auth: Auth, user: User, **fields: object) -> int:
    made = await client.post("/api/issues", json=fields, headers=auth(user))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_a_filtered_csv_export_has_the_listed_issues_and_neutralised_formulas(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER, email="rae@example.com")
    first = await _file(
        client,
        auth,
        rae,
        title='=HYPERLINK("http://x")',
        description='line one\nline "two"',
        tags=["safari", "export"],
        severity="HIGH",
    )
    await _file(client, auth, rae, title="Unrelated", tags=["ui"])
    third = await _file(client, auth, mia, title="Safari crash on export", tags=["safari"])

    answer = await client.get("/api/issues/export?tag=safari", headers=auth(mia))
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="issues-')
    assert answer.text.startswith(",".join(export.COLUMNS) + "\r\n")
    rows = _rows(answer)
    assert [int(r["id"]) for r in rows] == [first, third]
    assert rows[0]["title"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["description"] == 'line one\nline "two"'
    assert rows[0]["tags"] == "export, safari"
    assert (rows[0]["severity"], rows[0]["status"]) == ("HIGH", "OPEN")
    assert rows[0]["reporter_email"] == "rae@example.com"

    searched = _rows(await client.get("/api/issues/export?q=crash", headers=auth(mia)))
    assert [int(r["id"]) for r in searched] == [third]
    nothing = await client.get("/api/issues/export?tag=never-used", headers=auth(mia))
    assert nothing.text == ",".join(export.COLUMNS) + "\r\n"


async def test_a_reporter_exports_only_their_own_issues_without_addresses(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)
    own = await _file(client, auth, rae, title="Mine")
    await _file(client, auth, mia, title="Staff only")
    rows = _rows(await client.get("/api/issues/export", headers=auth(rae)))
    assert [int(r["id"]) for r in rows] == [own]
    assert rows[0]["reporter_email"] == "" and rows[0]["reporter_name"] == rae.full_name


async def test_json_export_streams_every_page(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    export.export_statement.clear()
    mia = await make_user(Role.MAINTAINER)
    ids = [await _file(client, auth, mia, title=f"Issue {n}", tags=["bulk"]) for n in range(5)]
    try:
        answer = await client.get("/api/issues/export?format=json&tag=bulk", headers=auth(mia))
    finally:
        export.export_statement.clear()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    items = answer.json()
    assert [i["id"] for i in items] == ids
    assert items[0]["tags"] == ["bulk"] and items[0]["resolved_at"] is None

    bad = await client.get("/api/issues/export?format=xlsx", headers=auth(mia))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/issues/export")).status_code == 401
