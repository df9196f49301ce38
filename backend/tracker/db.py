"""Engine, the request-scoped session and the declarative base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_local(url: str) -> bool:
    """A unix socket or the loopback interface: nothing on the wire to encrypt."""
    parsed = make_url(url)
    query_host = parsed.query.get("host")
    host = query_host if isinstance(query_host, str) else parsed.host
    return not host or host.startswith("/") or host in LOCAL_HOSTS


def make_engine(url: str, *, pool_size: int = 20, max_overflow: int = 10) -> AsyncEngine:
    connect_args: dict[str, object] = {
        "server_settings": {"application_name": "tracker", "timezone": "UTC"}
    }
    parsed = make_url(url)
    # asyncpg's default is ssl="prefer": a TLS handshake attempt on every new connection, even
    # to a local server. An explicit ssl/sslmode in the URL always wins.
    if _is_local(url) and not {"ssl", "sslmode"} & set(parsed.query):
        connect_args["ssl"] = False
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        connect_args=connect_args,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed once when the endpoint has returned.

    Services only flush; a TrackerError or any exception rolls the whole request back.
    """
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# "function" scope: commit before the response is sent, so a client never sees success for a
# transaction that then fails to commit.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
