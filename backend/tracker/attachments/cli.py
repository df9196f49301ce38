"""`tracker storage …`: move the attachments to another store, check a store against the rows.

    tracker storage migrate --to s3://bucket/prefix   copy every file and thumbnail there
    tracker storage check [--url URL]                 rows without objects, objects without rows

Both read the rows from the database (DATABASE_URL, else the embedded server) and the current
store from the settings (STORAGE_URL, else STORAGE_DIR); a bucket named in `--to` or `--url`
is reached with the same S3_* settings. Registered on the `tracker` command by tracker.cli.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tracker.attachments import storage, transfer
from tracker.config import Settings, get_settings
from tracker.db import make_engine, make_sessionmaker
from tracker.localdb import database

storage_app = typer.Typer(
    help="Attachment storage: move the files to another store, check a store against the rows",
    no_args_is_help=True,
)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


async def _expected(url: str) -> list[transfer.Expected]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session:
            return await transfer.expected_objects(session)
    finally:
        await engine.dispose()


def _store(url: str | None, settings: Settings) -> storage.ObjectStore:
    try:
        return storage.store_for_url(url, settings) if url else storage.open_store(settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@storage_app.command("migrate")
def migrate(
    to: Annotated[
        str, typer.Option("--to", help="The new store: s3://bucket/prefix or file:///path")
    ],
    quick: Annotated[
        bool,
        typer.Option(help="Take an object already there with the right size as copied"),
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, max=32, help="Copies at a time")] = 4,
) -> None:
    """Copy every attachment (and thumbnail) from the current store to another.

    Resumable: what is already there with the same size and checksum is skipped. Then set
    STORAGE_URL to the new store and restart the API and the worker (docs/operations.md)."""
    settings = get_settings()
    source, target = _store(None, settings), _store(to, settings)
    if source.url == target.url:
        raise typer.BadParameter("that is the current store", param_hint="--to")

    async def run(url: str) -> transfer.MigrationReport:
        expected = await _expected(url)
        await target.check()
        _echo(f"{len(expected)} objects from {source.url} to {target.url}")
        return await transfer.migrate(source, target, expected, echo=_echo, quick=quick, jobs=jobs)

    with database(settings) as url:
        try:
            report = asyncio.run(run(url))
        except storage.StorageError as exc:
            _echo(f"migration stopped: {exc}")
            raise typer.Exit(1) from exc
    _echo(
        f"done: {report.copied} copied ({transfer.human(report.copied_bytes)}), "
        f"{report.present} already there, {len(report.missing)} missing in the source, "
        f"{len(report.failed)} failed"
    )
    if not report.ok:
        _echo("run it again once the failures are understood; what was copied stays copied")
        raise typer.Exit(1)


@storage_app.command("check")
def check(
    url: Annotated[
        str | None, typer.Option(help="A store other than the current one (file:// or s3://)")
    ] = None,
) -> None:
    """Report attachment rows without their object and objects without a row.

    Exits non-zero when an object is missing or has the wrong size. Objects without a row are
    listed only: the worker's orphan sweep removes them once they are an hour old."""
    settings = get_settings()
    store = _store(url, settings)

    async def run(db_url: str) -> transfer.CheckReport:
        return await transfer.check(store, await _expected(db_url))

    with database(settings) as db_url:
        try:
            report = asyncio.run(run(db_url))
        except storage.StorageError as exc:
            _echo(f"check failed: {exc}")
            raise typer.Exit(1) from exc
    for key in report.missing:
        typer.echo(f"missing: {key}")
    for key in report.wrong_size:
        typer.echo(f"wrong size: {key}")
    for info in report.without_row:
        typer.echo(f"without a row: {info.key} ({info.size} bytes, {info.modified:%Y-%m-%d %H:%M})")
    _echo(
        f"{store.url}: {report.checked} objects expected, {len(report.missing)} missing, "
        f"{len(report.wrong_size)} of the wrong size, {len(report.without_row)} without a row"
    )
    if not report.ok:
        raise typer.Exit(1)
