"""The worker's jobs run directly: sweep, clean-up, the runner's metrics and `tracker jobs`."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from tests.conftest import IssueFactory, UserFactory
from tracker.attachments.models import Attachment
from tracker.auth.models import (
    AuthorizationCode,
    LoginAttempt,
    OidcLoginState,
    RefreshToken,
    SignupAttempt,
)
from tracker.cli import app as cli
from tracker.config import Settings, get_settings
from tracker.roles import Role
from tracker.worker import runner
from tracker.worker.jobs import JOBS
from tracker.worker.metrics import REGISTRY
from tracker.worker.sweep import sweep_orphans

HOUR_AGO = time.time() - 2 * 3600


def _file(path: Path, *, old: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"data")
    if old:
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


async def _attach(session: AsyncSession, issue_id: int) -> uuid.UUID:
    attachment = Attachment(
        issue_id=issue_id,
        filename="shot.png",
        content_type="image/png",
        size_bytes=4,
        sha256=hashlib.sha256(b"data").hexdigest(),
    )
    session.add(attachment)
    await session.commit()
    return attachment.id


async def test_sweep_deletes_old_unowned_files_and_folders_of_deleted_issues(
    make_user: UserFactory,
    make_issue: IssueFactory,
    db: AsyncSession,
    storage_dir: Path,
) -> None:
    issue = await make_issue(await make_user(Role.REPORTER))
    owned_id = await _attach(db, issue.id)
    folder = storage_dir / "issues" / str(issue.id)
    owned = _file(folder / str(owned_id), old=True)
    thumb = _file(folder / f"{owned_id}.thumb.webp", old=True)
    orphan = _file(folder / str(uuid.uuid4()), old=True)
    uploading = _file(folder / str(uuid.uuid4()), old=False)  # its row is not committed yet
    gone = storage_dir / "issues" / "999999"
    _file(gone / str(uuid.uuid4()), old=True)
    unrelated = _file(storage_dir / "issues" / "notes" / "keep.txt", old=True)

    result = await sweep_orphans(db, storage_dir)

    assert result == {"files_deleted": 2, "folders_deleted": 1}
    assert owned.exists() and thumb.exists() and uploading.exists() and unrelated.exists()
    assert not orphan.exists()
    assert not gone.exists()
    assert folder.exists()  # its issue still exists


async def test_sweep_deletes_uploads_abandoned_in_the_temporary_folder(
    db: AsyncSession, tmp_path: Path
) -> None:
    # A process that died mid-upload leaves its temporary file behind; a live one keeps writing.
    abandoned = _file(tmp_path / "tmp" / uuid.uuid4().hex, old=True)
    receiving = _file(tmp_path / "tmp" / uuid.uuid4().hex, old=False)

    assert await sweep_orphans(db, tmp_path) == {"files_deleted": 1, "folders_deleted": 0}
    assert not abandoned.exists()
    assert receiving.exists()


async def test_sweep_with_nothing_stored_is_a_no_op(db: AsyncSession, tmp_path: Path) -> None:
    assert await sweep_orphans(db, tmp_path) == {"files_deleted": 0, "folders_deleted": 0}
    (tmp_path / "issues").mkdir()
    assert await sweep_orphans(db, tmp_path) == {"files_deleted": 0, "folders_deleted": 0}


async def test_cleanup_deletes_only_expired_sign_in_data(
    make_user: UserFactory, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(Role.REPORTER)
    # Only the rows below: not the session the factory opens for tokens made directly.
    await db.execute(delete(RefreshToken))
    await db.commit()
    now = datetime.now(UTC)

    def code(n: int, expires: datetime) -> AuthorizationCode:
        return AuthorizationCode(
            code_hash=f"{n:064d}",
            user_id=user.id,
            client_id="web",
            redirect_uri="http://x/cb",
            code_challenge="c",
            expires_at=expires,
        )

    def refresh(n: int, expires: datetime) -> RefreshToken:
        return RefreshToken(
            token_hash=f"{n:064d}",
            family_id=uuid.uuid4(),
            user_id=user.id,
            client_id="web",
            expires_at=expires,
        )

    def state(n: int, expires: datetime) -> OidcLoginState:
        return OidcLoginState(
            state_hash=f"{n:064d}",
            nonce="n",
            code_verifier="v",
            client_id="web",
            redirect_uri="http://x/cb",
            code_challenge="c",
            client_state="s",
            expires_at=expires,
        )

    window = timedelta(seconds=settings.login_window_seconds)
    signup_window = timedelta(seconds=settings.signup_window_seconds)
    db.add_all(
        [
            code(1, now - timedelta(seconds=1)),
            code(2, now + timedelta(seconds=30)),
            refresh(1, now - timedelta(days=2)),  # expired more than a day ago: gone
            refresh(2, now - timedelta(hours=2)),  # just expired: kept a day
            refresh(3, now + timedelta(days=5)),
            state(1, now - timedelta(minutes=1)),
            state(2, now + timedelta(minutes=5)),
            LoginAttempt(email="a@example.com", ip="1.2.3.4", created_at=now - 2 * window),
            LoginAttempt(email="a@example.com", ip="1.2.3.4", created_at=now),
            SignupAttempt(ip="1.2.3.4", created_at=now - 2 * signup_window),
            SignupAttempt(ip="1.2.3.4", created_at=now - window),  # inside the sign-up window
        ]
    )
    await db.commit()

    deleted = await JOBS["cleanup_tokens"].func(db, settings)
    await db.commit()

    assert deleted == {
        "authorization_codes": 1,
        "oidc_login_states": 1,
        "refresh_tokens": 1,
        "login_attempts": 1,
        "signup_attempts": 1,
    }
    for model in (AuthorizationCode, OidcLoginState, LoginAttempt, SignupAttempt):
        assert await db.scalar(select(func.count()).select_from(model)) == 1
    assert await db.scalar(select(func.count()).select_from(RefreshToken)) == 2


def _sample(name: str, job: str, outcome: str | None = None) -> float:
    labels = {"job": job} if outcome is None else {"job": job, "outcome": outcome}
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_run_records_success_metrics_and_commits(
    make_user: UserFactory, make_issue: IssueFactory, settings: Settings, db: AsyncSession
) -> None:
    await make_issue(await make_user(Role.REPORTER))
    runs = _sample("tracker_worker_job_runs_total", "aggregate_stats", "success")
    durations = _sample("tracker_worker_job_duration_seconds_count", "aggregate_stats")

    assert await runner.run_job("aggregate_stats", settings) == {"rows_changed": 16}

    assert _sample("tracker_worker_job_runs_total", "aggregate_stats", "success") == runs + 1
    assert _sample("tracker_worker_job_duration_seconds_count", "aggregate_stats") == durations + 1
    last = _sample("tracker_worker_job_last_success_timestamp_seconds", "aggregate_stats")
    assert abs(last - time.time()) < 60
    assert await db.scalar(text("SELECT sum(count) FROM daily_stats")) == 1


async def test_a_failed_run_is_counted_logged_and_rolled_back(
    settings: Settings,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    app: object,
) -> None:
    async def broken(session: AsyncSession, _: Settings) -> dict[str, int]:
        await session.execute(text("INSERT INTO tags (name) VALUES ('half-written')"))
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(JOBS, "cleanup_tokens", replace(JOBS["cleanup_tokens"], func=broken))
    failures = _sample("tracker_worker_job_failures_total", "cleanup_tokens")
    runner.configure(settings)

    # In a thread, as the scheduler's pool runs it; it must not raise: the next tick retries.
    await asyncio.to_thread(runner.run_scheduled, "cleanup_tokens")

    assert _sample("tracker_worker_job_failures_total", "cleanup_tokens") == failures + 1
    assert await db.scalar(text("SELECT count(*) FROM tags")) == 0
    assert "job_failed" in caplog.text and "disk on fire" in caplog.text


@pytest.fixture
def env_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_jobs_list_names_every_job_with_its_interval(env_database: str, app: object) -> None:
    result = CliRunner().invoke(cli, ["jobs", "list"])
    assert result.exit_code == 0, result.output
    for name in ("aggregate_stats", "sweep_orphan_files", "cleanup_tokens"):
        assert name in result.output
    assert "every 30 min" in result.output
    assert "not scheduled yet" in result.output


async def test_jobs_run_runs_one_job_now(
    env_database: str,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_issue(await make_user(Role.REPORTER))
    # The CLI runs its own event loop: run it in a thread, as a terminal would run it.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["jobs", "run", "aggregate_stats"])
    assert result.exit_code == 0, result.output
    assert "aggregate_stats: rows_changed=16" in result.output
    async with sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM daily_stats")) == 16

    unknown = CliRunner().invoke(cli, ["jobs", "run", "nope"])
    assert unknown.exit_code != 0
    assert "aggregate_stats" in unknown.output
