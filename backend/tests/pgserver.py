"""The PostgreSQL server the tests use: DATABASE_URL's server, else a throwaway embedded one."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker.localdb import EmbeddedPostgres, drop_database, ensure_database, free_port


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """A fresh, empty database for one test session; dropped (or the server removed) after."""
    name = f"tracker_{label}_{uuid.uuid4().hex[:8]}"
    external = os.environ.get("DATABASE_URL")
    if external:
        server_url = make_url(external).set(database="postgres").render_as_string(False)
        ensure_database(server_url, name)
        try:
            yield make_url(external).set(database=name).render_as_string(False)
        finally:
            drop_database(server_url, name)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    server = EmbeddedPostgres(data_dir / "data", port=free_port())
    server.start()
    try:
        ensure_database(server.url(), name)
        yield server.url(name)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
