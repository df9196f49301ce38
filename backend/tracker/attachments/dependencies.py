"""Who may upload, see and delete attachments: dependencies named by what they allow.

Visibility follows the issue: a REPORTER reaches only files of their own issues and gets 404 for
anyone else's (the file's existence is not revealed), staff reach all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from tracker.attachments import repository
from tracker.attachments.models import Attachment
from tracker.attachments.storage import ObjectStore
from tracker.auth.dependencies import AppSettings, CurrentUser
from tracker.db import DbSession
from tracker.errors import Conflict, Forbidden, NotFound
from tracker.issues.dependencies import IssueForViewer
from tracker.issues.models import Issue
from tracker.multipart import ReceivedForm, receive_request_form
from tracker.roles import is_staff


def attachment_store(request: Request) -> ObjectStore:
    """The process's attachment store (a folder or a bucket), opened by create_app."""
    store: ObjectStore = request.app.state.attachment_store
    return store


AttachmentStore = Annotated[ObjectStore, Depends(attachment_store)]


@dataclass(frozen=True)
class VisibleAttachment:
    attachment: Attachment
    reporter_id: int  # of the attachment's issue


async def attachment_for_viewer(
    session: DbSession, user: CurrentUser, attachment_id: Annotated[uuid.UUID, Path()]
) -> VisibleAttachment:
    found = await repository.get_with_reporter(session, attachment_id)
    if found is None or not (is_staff(user) or found[1] == user.id):
        raise NotFound(f"Attachment {attachment_id} not found", code="attachment_not_found")
    return VisibleAttachment(*found)


AttachmentForViewer = Annotated[VisibleAttachment, Depends(attachment_for_viewer)]


async def attachment_for_deleter(
    visible: AttachmentForViewer, user: CurrentUser
) -> VisibleAttachment:
    """Staff delete any file; a REPORTER only files they uploaded to their own issue."""
    if not (is_staff(user) or visible.attachment.uploader_id == user.id):
        raise Forbidden("Only its uploader or staff can delete this file", code="not_uploader")
    return visible


AttachmentForDeleter = Annotated[VisibleAttachment, Depends(attachment_for_deleter)]


async def issue_for_uploader(
    issue: IssueForViewer, session: DbSession, settings: AppSettings
) -> Issue:
    """Whoever sees an issue may attach to it; a full issue is refused before any byte is read."""
    existing = await repository.count_for_issue(session, issue.id)
    if existing >= settings.max_attachments_per_issue:
        raise Conflict(
            f"This issue already has the maximum of {settings.max_attachments_per_issue} files",
            code="too_many_attachments",
            max_attachments=settings.max_attachments_per_issue,
            existing=existing,
        )
    return issue


IssueForUploader = Annotated[Issue, Depends(issue_for_uploader)]


async def upload_form(request: Request, settings: AppSettings) -> AsyncIterator[ReceivedForm]:
    """The request's multipart body, streamed into temporary files that are removed afterwards.

    Declare it AFTER the permission dependency in an endpoint: dependencies run in order, so
    nobody can make the server read a body they are not allowed to send.
    """
    form = await receive_request_form(request, settings)
    try:
        yield form
    finally:
        form.discard()


UploadForm = Annotated[ReceivedForm, Depends(upload_form)]
