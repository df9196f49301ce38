"""Imports of issues from CSV or JSON (staff only): /api/imports."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse

from tracker.auth.dependencies import AppSettings, StaffUser
from tracker.db import DbSession
from tracker.errors import BadRequest, Unprocessable, problems
from tracker.imports import service
from tracker.imports.models import OnError, UnknownPeople
from tracker.imports.parsing import MAX_FILE_BYTES
from tracker.imports.schemas import DryRunReport, ImportOut
from tracker.inputs import INT4_MAX, NUL_FREE, multipart_body
from tracker.multipart import receive_form

router = APIRouter(prefix="/imports", tags=["imports"])

FORM = multipart_body(
    {
        "file": {"type": "string", "format": "binary"},
        "format": {"type": "string", "enum": ["csv", "json"]},
        "mapping": {
            "type": "string",
            "maxLength": 10000,
            "pattern": NUL_FREE,
            "description": 'JSON: {"file column": "field"}; a header that names the fields '
            "needs none",
        },
        "on_error": {"type": "string", "enum": [e.value for e in OnError]},
        "unknown_reporters": {"type": "string", "enum": [e.value for e in UnknownPeople]},
    }
)


def _one(fields: dict[str, list[str]], name: str, default: str) -> str:
    values = fields.get(name) or [default]
    return values[-1].strip() or default


E = TypeVar("E", OnError, UnknownPeople)


def _choice(fields: dict[str, list[str]], name: str, kind: type[E]) -> E:
    raw = _one(fields, name, next(iter(kind)).value)
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise Unprocessable(
            f"{name} must be one of {allowed}",
            code="validation_error",
            errors=[{"field": name, "message": f"must be one of {allowed}"}],
        ) from None


def _mapping(fields: dict[str, list[str]]) -> dict[str, str]:
    raw = _one(fields, "mapping", "{}")
    try:
        mapping = json.loads(raw) if len(raw) <= 10000 and "\x00" not in raw else None
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise Unprocessable(
            'mapping must be a JSON object of column names to fields, e.g. {"Summary": "title"}',
            code="validation_error",
            errors=[{"field": "mapping", "message": "not a JSON object of strings"}],
        )
    return mapping


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    summary="Import issues from a CSV or JSON file (or, with dry_run, say what it would do)",
    responses={
        200: {"model": DryRunReport, "description": "dry_run=true: what the import would do"},
        **problems(
            (400, "A malformed multipart body, or no file"),
            (413, "The file is larger than 10 MB or has more than 20,000 rows"),
            (422, "The file cannot be read: its encoding, its JSON, or a missing title column"),
        ),
    },
    openapi_extra=FORM,
)
async def create_import(
    request: Request,
    user: StaffUser,
    session: DbSession,
    settings: AppSettings,
    dry_run: Annotated[bool, Query(description="Only report what would happen")] = False,
) -> ImportOut | JSONResponse:
    form = await receive_form(
        request.stream(),
        request.headers.get("content-type"),
        storage_dir=settings.storage_dir,
        max_file_bytes=MAX_FILE_BYTES,
        max_files=1,
    )
    try:
        if len(form.files) != 1:
            raise BadRequest("Send the file to import as the `file` part", code="file_missing")
        upload = form.files[0]
        source = await asyncio.to_thread(upload.path.read_bytes)
    finally:
        form.discard()
    guessed = "json" if upload.filename.lower().endswith(".json") else "csv"
    fmt = _one(form.fields, "format", guessed)
    if fmt not in ("csv", "json"):
        raise Unprocessable(
            "format must be csv or json",
            code="validation_error",
            errors=[{"field": "format", "message": "must be csv or json"}],
        )
    mapping = _mapping(form.fields)
    unknown = _choice(form.fields, "unknown_reporters", UnknownPeople)
    on_error = _choice(form.fields, "on_error", OnError)
    if dry_run:
        report = await service.dry_run(session, source, fmt, mapping, unknown)
        return JSONResponse(report.model_dump(mode="json"))
    return await service.queue(
        session,
        user,
        source=source,
        filename=upload.filename,
        fmt=fmt,
        mapping=mapping,
        on_error=on_error,
        unknown_reporters=unknown,
    )


@router.get("", response_model=list[ImportOut])
async def list_imports(user: StaffUser, session: DbSession) -> list[ImportOut]:
    """Your recent imports, newest first (an ADMIN sees everyone's)."""
    return await service.list_imports(session, user)


@router.get("/{import_id:int}", response_model=ImportOut, responses=problems(404))
async def get_import(
    import_id: Annotated[int, Path(ge=1, le=INT4_MAX)], user: StaffUser, session: DbSession
) -> ImportOut:
    """An import's state, progress and report (who started it, or an ADMIN)."""
    return await service.get_import(session, user, import_id)
