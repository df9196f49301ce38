"""Alembic environment: migrations are the only way the schema is made, in tests too."""

from __future__ import annotations

import warnings
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from tracker.localdb import to_libpq
from tracker.models import Base

# PostgreSQL normalises generated-column expressions; the text differs, the column does not.
warnings.filterwarnings("ignore", message="Computed default on")

# Tables made by migrations that no model maps (APScheduler owns its job table's contents).
UNMAPPED_TABLES = {"apscheduler_jobs"}


def _url() -> str:
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        from tracker.config import get_settings

        url = get_settings().database_url
    if not url:
        raise RuntimeError("No database URL: set DATABASE_URL or run through the tracker CLI")
    return to_libpq(url).replace("postgresql://", "postgresql+psycopg://", 1)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (type_ == "table" and name in UNMAPPED_TABLES)


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
