"""The `tracker` command: run the stack, the API, the worker; migrations; users."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from tracker.attachments.cli import storage_app
from tracker.config import REPO_ROOT, Settings, get_settings
from tracker.localdb import database
from tracker.supervision import WorkerRestarts, wait_http

app = typer.Typer(help="Issues & Insights Tracker", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
users_app = typer.Typer(help="User accounts", no_args_is_help=True)
jobs_app = typer.Typer(help="The worker's scheduled jobs", no_args_is_help=True)
mail_app = typer.Typer(help="Outgoing e-mail", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(jobs_app, name="jobs")
app.add_typer(mail_app, name="mail")
app.add_typer(storage_app, name="storage")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (API_PORT)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler that
    # was in place before it: make that an exit, so `database()` still stops its server.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with database(settings) as url:
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        uvicorn.run(
            "tracker.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            workers=workers,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            access_log=False,
            log_config=None,
            ws_ping_interval=20,
            ws_ping_timeout=20,
        )


@app.command()
def worker() -> None:
    """Run the background worker (scheduled jobs)."""
    from tracker.worker.main import run_worker

    settings = get_settings()
    with database(settings) as url:
        run_worker(settings.model_copy(update={"database_url": url}))


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None,
) -> None:
    """Print the OpenAPI schema (the frontend's types are generated from it)."""
    from tracker.app import create_app

    settings = get_settings().model_copy(update={"database_url": "postgresql+asyncpg://unused/x"})
    text = json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"
    if out:
        out.write_text(text)
    else:
        sys.stdout.write(text)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from tracker import migrations

    with database(get_settings()) as url:
        migrations.upgrade(url, revision)
        _echo(f"Database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    from tracker import migrations

    with database(get_settings()) as url:
        migrations.downgrade(url, revision)
        _echo(f"Database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the code's head."""
    from alembic import command

    from tracker import migrations

    with database(get_settings()) as url:
        command.current(migrations.alembic_config(url), verbose=False)
        typer.echo(f"head: {migrations.head_revision()}")


async def _create_user(url: str, email: str, password: str, full_name: str, role: str) -> int:
    from tracker.auth.accounts import create_user
    from tracker.db import make_engine, make_sessionmaker
    from tracker.roles import Role

    engine = make_engine(url, pool_size=1, max_overflow=1)
    try:
        async with make_sessionmaker(engine)() as session:
            user = await create_user(
                session, email=email, password=password, full_name=full_name, role=Role(role)
            )
            await session.commit()
            return user.id
    finally:
        await engine.dispose()


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[str, typer.Option(help="ADMIN, MAINTAINER or REPORTER")] = "REPORTER",
    name: Annotated[str, typer.Option(help="Full name")] = "",
) -> None:
    """Create a user with any role."""
    from tracker.errors import TrackerError

    if role not in ("ADMIN", "MAINTAINER", "REPORTER"):
        raise typer.BadParameter("role must be ADMIN, MAINTAINER or REPORTER", param_hint="--role")
    with database(get_settings()) as url:
        try:
            user_id = asyncio.run(_create_user(url, email, password, name, role))
        except TrackerError as exc:
            _echo(f"error: {exc.detail}")
            raise typer.Exit(1) from exc
    _echo(f"Created {role} {email} (id {user_id})")


def _stored_next_runs(url: str) -> dict[str, float | None]:
    """Next run times from the worker's job store, if the database is reachable."""
    import psycopg

    from tracker.localdb import to_libpq

    try:
        with psycopg.connect(to_libpq(url), connect_timeout=5) as conn:
            rows = conn.execute("SELECT id, next_run_time FROM apscheduler_jobs").fetchall()
    except psycopg.Error:
        return {}
    return {str(job_id): next_run for job_id, next_run in rows}


@jobs_app.command("list")
def jobs_list() -> None:
    """List the jobs with their interval and, once a worker scheduled them, their next run."""
    from datetime import UTC, datetime

    from tracker.worker.jobs import JOBS

    settings = get_settings()
    with database(settings) as url:
        next_runs = _stored_next_runs(url)
    for name, job in JOBS.items():
        seconds = job.interval_seconds(settings)
        every = f"every {seconds / 60:g} min" if seconds >= 60 else f"every {seconds:g} s"
        stamp = next_runs.get(name)
        if name not in next_runs:
            when = "not scheduled yet (no worker has led)"
        elif stamp is None:
            when = "paused"
        else:
            when = "next " + datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
        typer.echo(f"{name:<20} {every:<16} {when}")
        typer.echo(f"  {job.description}")


@jobs_app.command("run")
def jobs_run(name: Annotated[str, typer.Argument(help="A name from `tracker jobs list`")]) -> None:
    """Run one job now, once, in this process (whether or not a worker is running)."""
    from tracker.attachments.storage import open_store
    from tracker.observability.logging import configure_logging
    from tracker.worker.jobs import JOBS
    from tracker.worker.runner import run_job

    if name not in JOBS:
        raise typer.BadParameter(f"unknown job; choose from {', '.join(JOBS)}", param_hint="NAME")
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    open_store(settings)  # as the worker does: the orphan sweep finds the store by STORAGE_DIR
    with database(settings) as url:
        try:
            result = asyncio.run(run_job(name, settings.model_copy(update={"database_url": url})))
        except Exception as exc:
            _echo(f"{name} failed: {exc!r}")
            raise typer.Exit(1) from exc
    summary = ", ".join(f"{key}={value}" for key, value in result.items()) or "done"
    _echo(f"{name}: {summary}")


async def _ensure_first_admin(url: str, settings: Settings) -> str | None:
    """Make the first ADMIN when none exists. Returns a message to print once, or None."""
    from tracker.auth import accounts
    from tracker.db import make_engine, make_sessionmaker
    from tracker.roles import Role

    engine = make_engine(url, pool_size=1, max_overflow=1)
    try:
        async with make_sessionmaker(engine)() as session:
            if await accounts.count_with_role(session, Role.ADMIN):
                return None
            email = settings.admin_email or "admin@example.com"
            password = settings.admin_password or secrets.token_urlsafe(12)
            if await accounts.get_user_by_email(session, email):
                return f"No ADMIN exists and {email} is taken: use `tracker users create`"
            await accounts.create_user(
                session, email=email, password=password, full_name="Administrator", role=Role.ADMIN
            )
            await session.commit()
            if settings.admin_password:
                return f"Created the first ADMIN: {email} (password from ADMIN_PASSWORD)"
            return f"Created the first ADMIN: {email} with password {password}  (shown once)"
    finally:
        await engine.dispose()


@mail_app.command("test")
def mail_test(
    to: Annotated[str, typer.Option("--to", help="Where to send the test message")],
) -> None:
    """Send a test message through the configured SMTP server and print its answer."""
    from tracker.mail import Mail, MailError, send

    settings = get_settings()
    if not settings.mail_enabled:
        _echo("E-mail is off: set SMTP_HOST (docs/operations.md) to send mail.")
        raise typer.Exit(1)
    mail = Mail(
        to=to,
        subject="Test message from the Issues & Insights Tracker",
        text=f"This is a test message from the tracker at {settings.web_origin}.\n",
    )
    try:
        answer = asyncio.run(send(settings, mail))
    except MailError as exc:
        _echo(f"Not sent: {exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"Accepted by {settings.smtp_host}:{settings.smtp_port}: {answer}")


@app.command()
def demo(issues: Annotated[int, typer.Option(min=1, max=5000)] = 300) -> None:
    """Fill a fresh install with a made-up team and its work, to try the tracker."""
    from tracker.demo import run

    run(get_settings(), issues=issues, say=_echo)


@app.command()
def up(
    web: Annotated[
        bool, typer.Option(help="Also start the web server (needs a frontend build)")
    ] = True,
) -> None:
    """Start everything locally: database, migrations, first admin, API, worker and web."""
    from tracker import migrations

    settings = get_settings()
    if settings.signing_key_origin == "generated":
        _echo(f"Made this install's signing key in {settings.secret_key_file} (mode 0600, kept)")
    if not settings.mail_enabled:
        _echo("E-mail is off (no SMTP_HOST): notifications stay in the app's inbox.")
    _echo("To try it with a made-up team and a few hundred issues: .venv/bin/tracker demo")
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Installed explicitly: a shell that starts `up` in the background leaves SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    with database(settings) as url:
        migrations.upgrade(url)
        message = asyncio.run(_ensure_first_admin(url, settings))
        if message:
            _echo(message)
        env = {**os.environ, "DATABASE_URL": url}
        bin_dir = Path(sys.executable).parent
        tracker_bin = str(bin_dir / "tracker")
        api_url = f"http://{settings.api_host}:{settings.api_port}"

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen([tracker_bin, "worker"], env=env)  # noqa: S603

        worker = WorkerRestarts(say=_echo)
        try:
            procs.append(("api", subprocess.Popen([tracker_bin, "serve"], env=env)))  # noqa: S603
            procs.append(("worker", start_worker()))
            if not wait_http(f"{api_url}/healthz", 60, procs[0][1], lambda: stopping):
                if stopping:
                    return
                _echo("The API did not start; see its log above.")
                raise typer.Exit(1)
            if web:
                web_env = {
                    **env,
                    "HOST": settings.web_host,
                    "PORT": str(settings.web_port),
                    "API_URL": api_url,
                    "ORIGIN": settings.web_origin,
                }
                frontend = REPO_ROOT / "frontend"
                procs.append(
                    ("web", subprocess.Popen(["node", "server.js"], cwd=frontend, env=web_env))  # noqa: S607
                )
                if not wait_http(f"{settings.web_origin}/", 60, procs[-1][1], lambda: stopping):
                    if stopping:
                        return
                    _echo("The web server did not start; see its log above.")
                    raise typer.Exit(1)
            _echo("")
            _echo(f"  Tracker is running: open {settings.web_origin if web else api_url}")
            _echo(f"  API {api_url}  ·  docs {api_url}/api/docs  ·  Ctrl-C stops everything")
            _echo("")
            while not stopping:
                for index, (name, proc) in enumerate(procs):
                    if proc.poll() is None:
                        continue
                    if name != "worker":
                        _echo(f"{name} exited with code {proc.returncode}; stopping.")
                        stopping = True
                    elif worker.due(proc.returncode):
                        # Jobs are kept in PostgreSQL: a new worker picks up where this one
                        # stopped, so the rest of the stack keeps serving meanwhile.
                        procs[index] = (name, start_worker())
                        _echo(f"worker restarted (pid {procs[index][1].pid})")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            _echo("Stopping…")
            for _, proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for _, proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    _echo("Stopped.")


if __name__ == "__main__":
    app()
