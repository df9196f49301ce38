"""Attachment endpoints: upload limits, upload to an issue, list, download, thumbnail, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse

from tracker.attachments import service
from tracker.attachments.dependencies import (
    AttachmentForDeleter,
    AttachmentForViewer,
    AttachmentStore,
    IssueForUploader,
    UploadForm,
)
from tracker.attachments.download import serve
from tracker.attachments.schemas import AttachmentOut, UploadLimits
from tracker.auth.dependencies import AppSettings, CurrentUser
from tracker.db import DbSession
from tracker.errors import problems
from tracker.issues.dependencies import IssueForViewer

router = APIRouter(tags=["attachments"])

_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes, with its detected type", "content": {"*/*": {}}},
    304: {"description": "Not modified (If-None-Match)"},
    **problems(404),
}


# Declared before /attachments/{attachment_id:uuid}, which would otherwise take "limits" for an id.
@router.get(
    "/attachments/limits",
    response_model=UploadLimits,
    summary="The largest file and the most files per issue the API accepts",
)
async def upload_limits(user: CurrentUser, settings: AppSettings) -> UploadLimits:
    """The limits uploads are held to, as configured; the pages check chosen files against them
    before anything is sent (the API enforces them either way)."""
    return UploadLimits.from_settings(settings)


@router.post(
    "/issues/{issue_id:int}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Attach files to an issue (multipart, one `file` part per file)",
    responses=problems(
        (400, "A malformed multipart body"),
        404,
        (409, "More files than an issue may have"),
        (413, "A file is larger than the upload limit"),
        (415, "A file's type is not allowed"),
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary", "minLength": 1},
                                "minItems": 1,
                            }
                        },
                    }
                }
            },
        }
    },
)
async def upload_attachments(
    issue: IssueForUploader,
    form: UploadForm,
    user: CurrentUser,
    session: DbSession,
    settings: AppSettings,
    store: AttachmentStore,
) -> list[AttachmentOut]:
    return await service.attach_files(
        session, issue, form.files, user, settings=settings, store=store
    )


@router.get(
    "/issues/{issue_id:int}/attachments",
    summary="The files of an issue, oldest first",
    responses=problems(404),
)
async def list_attachments(issue: IssueForViewer, session: DbSession) -> list[AttachmentOut]:
    return await service.list_attachments(session, issue)


@router.get(
    "/attachments/{attachment_id:uuid}",
    summary="Download a file (inline for images and PDFs unless download=1)",
    response_class=FileResponse,
    responses=_FILE_RESPONSES,
)
async def download_attachment(
    request: Request,
    visible: AttachmentForViewer,
    store: AttachmentStore,
    download: Annotated[bool, Query(description="Always as a download")] = False,
) -> Response:
    file = service.file_to_serve(visible.attachment, download=download)
    return await serve(request, store, file)


@router.get(
    "/attachments/{attachment_id:uuid}/thumbnail",
    summary="A small WebP preview of an image",
    response_class=FileResponse,
    responses=_FILE_RESPONSES,
)
async def attachment_thumbnail(
    request: Request, visible: AttachmentForViewer, store: AttachmentStore
) -> Response:
    file = service.file_to_serve(visible.attachment, thumbnail=True)
    return await serve(request, store, file)


@router.delete(
    "/attachments/{attachment_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a file (its uploader or staff); the file goes once the deletion commits",
    responses=problems((403, "Only its uploader or staff may delete it"), 404),
)
async def delete_attachment(
    visible: AttachmentForDeleter, user: CurrentUser, session: DbSession, store: AttachmentStore
) -> None:
    await service.delete_attachment(
        session, visible.attachment, visible.reporter_id, user, store=store
    )
