"""An issue's comment and attachment counts (columns kept by the database, migration 0009) stay
right whoever adds or removes a comment or a file, and however."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attachments.conftest import png_bytes
from tests.conftest import IssueFactory, UserFactory
from tests.pgserver import scratch_database
from tracker import migrations
from tracker.auth.models import User
from tracker.localdb import to_libpq
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]


async def _counts(
    client: httpx.AsyncClient, headers: dict[str, str], issue_id: int
) -> tuple[int, int, int]:
    """(comments, attachments) as the issue's page says, and its comments as the list says."""
    page = (await client.get(f"/api/issues/{issue_id}", headers=headers)).json()
    listed = (await client.get("/api/issues", headers=headers)).json()["items"]
    in_list = next(item["comment_count"] for item in listed if item["id"] == issue_id)
    return page["comment_count"], page["attachment_count"], in_list


async def test_counts_follow_every_comment_and_file_added_or_removed_through_the_api(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    admin = await make_user(Role.ADMIN)
    headers = auth(reporter)
    created = await client.post(
        "/api/issues",
        data={"title": "Export stalls", "severity": "LOW"},
        files=[("file", ("a.png", png_bytes(), "image/png")), ("file", ("b.log", b"log\n"))],
        headers=headers,
    )
    assert created.status_code == 201, created.text
    issue_id = created.json()["id"]
    other = (await client.post("/api/issues", json={"title": "Other"}, headers=headers)).json()
    assert await _counts(client, headers, issue_id) == (0, 2, 0)

    comments = []
    for n in range(3):
        resp = await client.post(
            f"/api/issues/{issue_id}/comments", json={"body": f"note {n}"}, headers=headers
        )
        assert resp.status_code == 201, resp.text
        comments.append(resp.json()["id"])
    await client.post(f"/api/issues/{other['id']}/comments", json={"body": "x"}, headers=headers)
    assert await _counts(client, headers, issue_id) == (3, 2, 3)

    assert (await client.delete(f"/api/comments/{comments[0]}", headers=headers)).status_code == 204
    files = (await client.get(f"/api/issues/{issue_id}/attachments", headers=headers)).json()
    deleted = await client.delete(f"/api/attachments/{files[0]['id']}", headers=headers)
    assert deleted.status_code == 204
    assert await _counts(client, headers, issue_id) == (2, 1, 2)

    added = await client.post(
        f"/api/issues/{issue_id}/attachments",
        files=[("file", ("c.txt", b"c\n")), ("file", ("d.txt", b"d\n"))],
        headers=headers,
    )
    assert added.status_code == 201, added.text
    refused = await client.post(
        f"/api/issues/{issue_id}/attachments",
        files=[("file", ("e.txt", b"e\n")), ("file", ("empty.txt", b""))],
        headers=headers,
    )
    assert refused.status_code == 422  # the whole upload is refused: the count stays
    assert await _counts(client, headers, issue_id) == (2, 3, 2)
    assert await _counts(client, headers, other["id"]) == (1, 0, 1)

    # Deleting an issue takes its rows with it and leaves the other issue's counts alone.
    assert (await client.delete(f"/api/issues/{issue_id}", headers=auth(admin))).status_code == 204
    assert await _counts(client, headers, other["id"]) == (1, 0, 1)


async def test_counts_follow_rows_written_by_hand_in_bulk(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    user = await make_user(Role.MAINTAINER)
    first, second = await make_issue(user), await make_issue(user)
    headers = auth(user)
    await db.execute(
        text(
            "INSERT INTO comments (issue_id, author_id, body, body_html) "
            "SELECT i.id, :u, 'hi', '<p>hi</p>' FROM issues i, generate_series(1, 3)"
        ),
        {"u": user.id},
    )
    await db.execute(
        text(
            "INSERT INTO attachments (id, issue_id, filename, content_type, size_bytes, sha256, "
            "has_thumbnail) VALUES (gen_random_uuid(), :i, 'a.txt', 'text/plain', 1, "
            "repeat('0', 64), false)"
        ),
        {"i": first.id},
    )
    await db.commit()
    assert (await _counts(client, headers, first.id))[:2] == (3, 1)
    assert (await _counts(client, headers, second.id))[:2] == (3, 0)

    # A comment moved to another issue counts there; a rolled-back delete changes nothing.
    moved = await db.scalar(
        text("SELECT min(id) FROM comments WHERE issue_id = :i"), {"i": first.id}
    )
    await db.execute(
        text("UPDATE comments SET issue_id = :i WHERE id = :c"), {"i": second.id, "c": moved}
    )
    await db.commit()
    await db.execute(text("DELETE FROM comments"))
    await db.rollback()
    assert (await _counts(client, headers, first.id))[:2] == (2, 1)
    assert (await _counts(client, headers, second.id))[:2] == (4, 0)

    await db.execute(text("DELETE FROM comments WHERE issue_id = :i"), {"i": second.id})
    await db.execute(text("TRUNCATE attachments"))
    await db.commit()
    assert (await _counts(client, headers, first.id))[:2] == (2, 0)
    assert (await _counts(client, headers, second.id))[:2] == (0, 0)


def test_the_migration_counts_what_is_there_and_goes_back() -> None:
    with scratch_database("counts") as url:
        migrations.upgrade(url, "0008")
        with psycopg.connect(to_libpq(url)) as conn:
            user = conn.execute(
                "INSERT INTO users (email, username, full_name, role) "
                "VALUES ('a@example.com', 'ax', 'A', 'MAINTAINER') RETURNING id"
            ).fetchone()
            assert user is not None
            issues = [
                conn.execute(
                    "INSERT INTO issues (title, severity, reporter_id) VALUES (%s, 'LOW', %s) "
                    "RETURNING id",
                    (title, user[0]),
                ).fetchone()[0]  # type: ignore[index]
                for title in ("busy", "quiet")
            ]
            for _ in range(2):
                conn.execute(
                    "INSERT INTO comments (issue_id, author_id, body, body_html) "
                    "VALUES (%s, %s, 'b', '<p>b</p>')",
                    (issues[0], user[0]),
                )
            conn.execute(
                "INSERT INTO attachments (id, issue_id, filename, content_type, size_bytes, "
                "sha256, has_thumbnail) VALUES (gen_random_uuid(), %s, 'a.txt', 'text/plain', 1, "
                "repeat('0', 64), false)",
                (issues[0],),
            )
        migrations.upgrade(url)
        with psycopg.connect(to_libpq(url)) as conn:
            rows = conn.execute(
                "SELECT title, comment_count, attachment_count FROM issues ORDER BY id"
            ).fetchall()
            assert rows == [("busy", 2, 1), ("quiet", 0, 0)]
        migrations.downgrade(url, "0008")
        with psycopg.connect(to_libpq(url)) as conn:
            columns = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'issues'"
                )
            }
            assert not columns & {"comment_count", "attachment_count"}
            conn.execute("DELETE FROM comments")  # no trigger is left to fail
        migrations.upgrade(url)
