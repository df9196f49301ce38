"""The `tracker` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tracker.cli import app as cli
from tracker.config import get_settings
from tracker.localdb import EmbeddedPostgres, free_port, to_libpq
from tracker.migrations import head_revision
from tracker.supervision import WorkerRestarts

runner = CliRunner()
TRACKER = str(Path(sys.executable).parent / "tracker")


@pytest.fixture
def env_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _roles(url: str) -> dict[str, str]:
    with psycopg.connect(to_libpq(url)) as conn:
        return dict(conn.execute("SELECT email, role FROM users").fetchall())  # type: ignore[arg-type]


def test_users_create_makes_any_role(env_database: str, app: object) -> None:
    # `app` is requested so the harness empties the tables after this test.
    result = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "m@example.com",
            "--password",
            "a long passphrase",
            "--role",
            "MAINTAINER",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Created MAINTAINER m@example.com" in result.output
    assert _roles(env_database) == {"m@example.com": "MAINTAINER"}

    again = runner.invoke(
        cli,
        ["users", "create", "--email", "M@example.com", "--password", "a long passphrase"],
    )
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_users_create_refuses_bad_role_and_weak_password(env_database: str, app: object) -> None:
    bad_role = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "x@example.com",
            "--password",
            "a long passphrase",
            "--role",
            "ROOT",
        ],
    )
    assert bad_role.exit_code != 0
    weak = runner.invoke(
        cli, ["users", "create", "--email", "x@example.com", "--password", "short"]
    )
    assert weak.exit_code == 1
    assert "at least 10 characters" in weak.output
    assert _roles(env_database) == {}


def test_db_current_shows_head(env_database: str) -> None:
    result = runner.invoke(cli, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert f"head: {head_revision()}" in result.output


def test_openapi_prints_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    result = runner.invoke(cli, ["openapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    schema = json.loads(out.read_text())
    assert schema["info"]["title"] == "Issues & Insights Tracker API"
    assert "/api/healthz" in schema["paths"]


def test_embedded_server_is_started_migrated_and_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("EMBEDDED_PG_DIR", str(tmp_path / "pg"))
    monkeypatch.setenv("EMBEDDED_PG_PORT", str(free_port()))
    get_settings.cache_clear()
    try:
        upgraded = runner.invoke(cli, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        server = EmbeddedPostgres(tmp_path / "pg")
        assert server.initialized
        assert server.running_port() is None  # started for the command, stopped after it
        downgraded = runner.invoke(cli, ["db", "downgrade", "base"])
        assert downgraded.exit_code == 0, downgraded.output
    finally:
        get_settings.cache_clear()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
            return int(resp.status)
    except OSError:
        return 0


def _child_running(parent: int, command: str) -> int:
    """The process id of `parent`'s child whose command line ends with `command`."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for child in children:
        argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if command.encode() in argv:
            return int(child)
    raise AssertionError(f"no {command} process under {parent}")


def test_worker_restarts_back_off_and_reset_after_a_healthy_run() -> None:
    now = [0.0]
    restarts = WorkerRestarts(clock=lambda: now[0], say=lambda _: None)
    waits = []
    for _ in range(8):
        down_at = now[0]
        while not restarts.due(1):
            now[0] += 0.5
        waits.append(now[0] - down_at)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    now[0] += WorkerRestarts.HEALTHY_RUN
    down_at = now[0]
    while not restarts.due(1):
        now[0] += 0.5
    assert now[0] - down_at == 1


def test_up_starts_api_and_worker_makes_the_first_admin_and_stops_everything(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "EMBEDDED_PG_DIR": str(tmp_path / "pg"),
        "EMBEDDED_PG_PORT": str(free_port()),
        "STORAGE_DIR": str(tmp_path / "files"),
        "API_PORT": str(port),
        "ADMIN_EMAIL": "boss@example.com",
        "ADMIN_PASSWORD": "a long admin passphrase",
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
    }
    env.pop("SECRET_KEY", None)
    proc = subprocess.Popen(
        [TRACKER, "up", "--no-web"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        # Wait for what a user waits for: the line that says where to open the app.
        while not any("Tracker is running" in line for line in lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "tracker up did not report that it is running"
            time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/readyz") == 200
        pg_port = EmbeddedPostgres(tmp_path / "pg").running_port()
        assert pg_port is not None
        server = EmbeddedPostgres(tmp_path / "pg", port=pg_port)
        assert _roles(server.url("tracker")) == {"boss@example.com": "ADMIN"}
        # A crashed worker is started again; the API keeps serving meanwhile.
        os.kill(_child_running(proc.pid, "worker"), signal.SIGKILL)
        while not any("worker restarted" in line for line in lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline + 60, "the worker was not restarted"
            time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/readyz") == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=5)
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert "Created the first ADMIN: boss@example.com" in output
    assert f"Made this install's signing key in {tmp_path / 'secret_key'}" in output
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert "Tracker is running" in output
    assert output.count("E-mail is off (no SMTP_HOST)") == 1
    assert EmbeddedPostgres(tmp_path / "pg").running_port() is None, "PostgreSQL left running"
    assert _get(f"http://127.0.0.1:{port}/healthz") == 0, "API left running"


def test_serve_stops_its_embedded_server_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "EMBEDDED_PG_DIR": str(tmp_path / "pg"),
        "EMBEDDED_PG_PORT": str(free_port()),
        "STORAGE_DIR": str(tmp_path / "files"),
    }
    subprocess.run(
        [TRACKER, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )
    proc = subprocess.Popen(
        [TRACKER, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _get(f"http://127.0.0.1:{port}/healthz") != 200:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "API did not start"
            time.sleep(0.3)
        assert EmbeddedPostgres(tmp_path / "pg").running_port() is not None
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert EmbeddedPostgres(tmp_path / "pg").running_port() is None, (
        f"PostgreSQL left running:\n{output[-3000:]}"
    )
