"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from tracker.attachments.service import IssueFilesInStore, check_storage
from tracker.attachments.storage import ObjectStore, open_store
from tracker.auth.access_cache import AccessCache
from tracker.config import Settings, get_settings
from tracker.db import make_engine, make_sessionmaker
from tracker.error_handlers import install_error_handlers
from tracker.issues.files import IssueFiles
from tracker.limits import BodySizeLimitMiddleware
from tracker.migrations import head_revision
from tracker.multipart import remove_abandoned_uploads
from tracker.observability.docs import install_docs
from tracker.observability.logging import configure_logging
from tracker.observability.middleware import RequestContextMiddleware
from tracker.observability.router import router as operations_router
from tracker.openapi import install_openapi
from tracker.realtime.listener import install_realtime
from tracker.routers import API_ROUTERS


async def _remove_abandoned_uploads(app: FastAPI) -> None:
    # Files a crashed process left half-received in STORAGE_DIR/tmp; a replica whose folder the
    # worker does not share (attachments in a bucket) has no one else to remove them.
    await to_thread.run_sync(
        remove_abandoned_uploads, app.state.settings.storage_dir, ABANDONED_UPLOAD_SECONDS
    )


async def _settle_storage(app: FastAPI) -> None:
    # Removals of committed deletions still on their way to a bucket finish before the exit.
    await app.state.attachment_store.settle()


# As the worker's sweep: no live upload's file is an hour old.
ABANDONED_UPLOAD_SECONDS = 3600


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set: start the API through `tracker serve`")
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url or "",
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        for startup in app.state.startup_hooks:
            await startup(app)
        # Everything loaded so far (modules, the ORM's mappers, compiled statements) lives as
        # long as the process: keep it out of the collector's full passes, whose pauses would
        # otherwise land on whichever requests are in flight.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for shutdown in reversed(app.state.shutdown_hooks):
                await shutdown(app)
            await engine.dispose()

    app = FastAPI(
        title="Issues & Insights Tracker API",
        version="0.1.0",
        summary="Report bugs and feedback with files; triage, work and measure them.",
        docs_url=None,  # install_docs: from a pinned package, and only where allowed
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.migration_head = head_revision()
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    app.state.access_cache = AccessCache()
    # Attachments live in a folder or a bucket (STORAGE_URL); one store per process.
    store: ObjectStore = open_store(settings)
    app.state.attachment_store = store
    # The issues domain declares what it needs of files (issues.files.IssueFiles) and the
    # attachments domain provides it; issues never imports attachments.
    issue_files: IssueFiles = IssueFilesInStore(settings, store)
    app.state.issue_files = issue_files
    app.state.readiness_checks = [lambda: check_storage(app.state.attachment_store)]
    app.state.startup_hooks.append(_remove_abandoned_uploads)
    app.state.shutdown_hooks.append(_settle_storage)
    install_realtime(app)
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app, settings)
    app.add_middleware(BodySizeLimitMiddleware, settings=settings)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(operations_router)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api")
    return app
