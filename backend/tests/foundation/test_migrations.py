"""The schema is made only by migrations, and they match the models both ways."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.pgserver import scratch_database
from tracker import migrations
from tracker.localdb import to_libpq


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    with scratch_database("migrations") as url:
        yield url


def _tables(url: str) -> set[str]:
    with psycopg.connect(to_libpq(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_upgrade_downgrade_upgrade_and_models_match(scratch_url: str) -> None:
    migrations.upgrade(scratch_url)
    expected = {
        "users",
        "refresh_tokens",
        "authorization_codes",
        "issues",
        "tags",
        "issue_tags",
        "comments",
        "attachments",
        "issue_events",
        "daily_stats",
        "apscheduler_jobs",
    }
    assert expected <= _tables(scratch_url)
    migrations.check(scratch_url)  # raises when the models and the migrations differ

    migrations.downgrade(scratch_url, "base")
    assert _tables(scratch_url) <= {"alembic_version"}

    migrations.upgrade(scratch_url)
    assert expected <= _tables(scratch_url)
    migrations.check(scratch_url)


def test_constraints_guard_the_data(database_url: str) -> None:
    with psycopg.connect(to_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO users (email, username, full_name, role) VALUES ('a@example.com', 'ax', 'A', 'REPORTER')"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO users (email, username, full_name, role) VALUES ('b@example.com', 'bx', 'B', 'GOD')"
            )
        conn.rollback()
        conn.execute(
            "INSERT INTO users (email, username, full_name, role) VALUES ('a@example.com', 'ax', 'A', 'REPORTER')"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO users (email, username, full_name, role) VALUES ('A@EXAMPLE.COM', 'a2', 'A2', 'REPORTER')"
            )
        conn.rollback()
        uid = conn.execute(
            "INSERT INTO users (email, username, full_name, role) VALUES ('c@example.com', 'cx', 'C', 'REPORTER') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        iid = conn.execute(
            "INSERT INTO issues (title, severity, reporter_id) VALUES ('t', 'HIGH', %s) RETURNING id",
            (uid,),
        ).fetchone()[0]  # type: ignore[index]
        rank = conn.execute(
            "SELECT severity_rank, status FROM issues WHERE id = %s", (iid,)
        ).fetchone()
        assert rank == (3, "OPEN")
        conn.execute(
            "INSERT INTO daily_stats (day, status, severity, count) VALUES (current_date, 'OPEN', 'HIGH', 1)"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO daily_stats (day, status, severity, count) VALUES (current_date, 'OPEN', 'HIGH', 2)"
            )
        conn.rollback()
