"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from tracker.errors import ServiceUnavailable, problems
from tracker.observability.metrics import REGISTRY

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: Literal["ok"]
    migration: str


@router.get("/healthz", response_model=Health)
@router.get("/api/healthz", response_model=Health, operation_id="api_health")
async def healthz() -> Health:
    """The process is up and serving."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=problems(503))
@router.get(
    "/api/readyz", response_model=Readiness, operation_id="api_ready", responses=problems(503)
)
async def readyz(request: Request) -> Readiness:
    """The database answers and its schema is at the migration head this code expects."""
    expected: str = request.app.state.migration_head
    try:
        async with request.app.state.engine.connect() as conn:
            current = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        raise ServiceUnavailable(
            f"Database unreachable: {type(exc).__name__}", code="database_unavailable"
        ) from exc
    if current != expected:
        raise ServiceUnavailable(
            f"Database schema is at {current}, expected {expected}: run `tracker db upgrade`",
            code="migrations_pending",
        )
    # And what else the app needs to serve (the attachment store: folder or bucket), each
    # raising a 503 of its own (storage_unavailable).
    for check in getattr(request.app.state, "readiness_checks", ()):
        await check()
    return Readiness(status="ready", database="ok", migration=expected)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
