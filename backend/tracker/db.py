"""Engine, the request-scoped session and the declarative base."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, ParamSpec, cast

import asyncpg
from asyncpg import Record as Record
from fastapi import Depends, Request
from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import ClauseElement

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
            if _has_work(session):
                await session.commit()
        except BaseException:
            await session.rollback()
            raise


# "function" scope: commit before the response is sent, so a client never sees success for a
# transaction that then fails to commit.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


# ---- the hot paths: statements compiled once, run on the session's driver connection ------------
#
# SQLAlchemy's per-execution machinery (cache-key walk, execution context, result wrapping, the
# greenlet bridge) costs several times what PostgreSQL spends on a small indexed query. The few
# statements every request runs (the access check, an issue page, the list, a write and its event)
# are written as Core statements like the rest, compiled once to PostgreSQL's own SQL, and sent
# through the asyncpg connection that the request's session holds — in the same transaction
# (docs/adr/0012-hot-paths-on-the-driver.md).

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class Sql:
    """A Core statement compiled once: its SQL text ($1, $2 …) and the parameter names in order.

    Compiled at first use, not where it is defined: a foreign-key column takes its type from the
    column it refers to once that table is loaded, so compiling at import time would make the
    SQL (its `$n::INTEGER` casts) depend on the order modules happened to be imported in.
    """

    __slots__ = ("_statement", "defaults", "names", "text")

    text: str
    names: tuple[str, ...]
    defaults: dict[str, Any]

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement

    def __getattr__(self, name: str) -> Any:
        # Only reached while an attribute is unset, i.e. before the first compile.
        if name not in ("text", "names", "defaults"):
            raise AttributeError(name)
        self._compile()
        return getattr(self, name)

    def _compile(self) -> None:
        compiled: Any = self._statement.compile(dialect=_DIALECT)
        self.names = tuple(compiled.positiontup or ())
        # Values the statement carries itself (`version + 1`), and columns' Python-side scalar
        # defaults (an INSERT's `version` = 1), which SQLAlchemy would fill in at execution time.
        defaults: dict[str, Any] = {
            name: compiled.binds[name].value
            for name in self.names
            if name in compiled.binds and not compiled.binds[name].required
        }
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"{column} needs a value: its default is not a constant")
            defaults[column.key] = column.default.arg
        self.defaults = defaults
        self.text = compiled.string

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        if self.defaults:
            params = {**self.defaults, **params}
        return [params[name] for name in self.names]


P = ParamSpec("P")


class StatementCache(Generic[P]):
    """The statements one builder makes, each built and compiled once per distinct arguments.

    For a statement whose SQL text depends on a few choices — which filters a list has, which
    fields an UPDATE sets, whether a cursor is given: building and compiling a Core statement
    costs more CPU than PostgreSQL spends running it, so each form is made once and reused with
    new parameters. The arguments are the key: hashable, and deciding the SQL text alone (never
    a parameter value). There are a few hundred forms at most, so nothing is ever evicted.
    A statement with a single form is simply a module-level `Sql`.

        @StatementCache
        def update_statement(names: tuple[str, ...]) -> Update: ...

        update_statement(("title",))  # the same Sql on every call
    """

    def __init__(self, build: Callable[P, ClauseElement]) -> None:
        self._build = build
        self._built: dict[Hashable, Sql] = {}
        functools.update_wrapper(self, build)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Sql:
        key: Hashable = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        sql = self._built.get(key)
        if sql is None:
            sql = self._built.setdefault(key, Sql(self._build(*args, **kwargs)))
        return sql

    def clear(self) -> None:
        """Forget every form built (for a test that changes what the builder reads)."""
        self._built.clear()


async def driver(session: AsyncSession, *, write: bool = False) -> asyncpg.Connection:
    """The asyncpg connection of the session's transaction.

    `write=True` makes sure the transaction has begun (as the session's first statement would);
    reads run in it if it has, or on their own otherwise — a GET that only reads never sends
    BEGIN and COMMIT.
    """
    adapted = await _adapted_connection(session)
    if write and adapted._transaction is None:
        await adapted._start_transaction()
    return cast(asyncpg.Connection, adapted.driver_connection)


_ADAPTED = "tracker.adapted_connection"


async def _adapted_connection(session: AsyncSession) -> Any:
    """SQLAlchemy's adapter around the session's asyncpg connection, remembered for as long as
    the session's transaction lasts (each lookup is a greenlet round trip in SQLAlchemy)."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_ADAPTED)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]
    connection = await session.connection()
    # The checked-out connection's DBAPI side: plain attributes once connected, no I/O.
    adapted = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    session.info[_ADAPTED] = (session.sync_session.get_transaction(), adapted)
    return adapted


async def in_transaction(session: AsyncSession) -> bool:
    """Whether the request's connection is inside a transaction (a write has begun one)."""
    if session.new or session.dirty or session.deleted:
        return True
    adapted = await _adapted_connection(session)
    return adapted._transaction is not None


def _has_work(session: AsyncSession) -> bool:
    """Whether committing could change anything: ORM changes to flush, or an open database
    transaction. A request that only read through `driver()` has neither."""
    if session.new or session.dirty or session.deleted:
        return True
    known = session.info.get(_ADAPTED)
    if known is None or known[0] is not session.sync_session.get_transaction():
        return True  # used some other way: let SQLAlchemy decide
    return known[1]._transaction is not None


def _translated(exc: asyncpg.PostgresError, sql: Sql, args: list[Any]) -> DBAPIError:
    """The exception SQLAlchemy would have raised, so error handling is the same on both paths."""
    integrity = isinstance(exc, asyncpg.IntegrityConstraintViolationError)
    kind = IntegrityError if integrity else DBAPIError
    return kind(sql.text, args, exc)


async def fetch(
    session: AsyncSession, sql: Sql, params: Mapping[str, Any] = {}, *, write: bool = False
) -> list[Record]:
    args = sql.args(params)
    conn = await driver(session, write=write)
    try:
        return cast(list[Record], await conn.fetch(sql.text, *args))
    except asyncpg.PostgresError as exc:
        raise _translated(exc, sql, args) from exc


async def fetchrow(
    session: AsyncSession, sql: Sql, params: Mapping[str, Any] = {}, *, write: bool = False
) -> Record | None:
    args = sql.args(params)
    conn = await driver(session, write=write)
    try:
        return cast(Record | None, await conn.fetchrow(sql.text, *args))
    except asyncpg.PostgresError as exc:
        raise _translated(exc, sql, args) from exc


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR column with a CHECK constraint holding the enum's values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
