"""What the issues domain needs from whoever keeps files: a port it declares and does not
implement.

Comments and attachments build on issues: their rows reference an issue, they lock it and
take it from `IssueForViewer`. So issues imports neither of them, which keeps the domains free
of import cycles. Two moments of an issue's life involve its files, and reach them through this
protocol only:

- filing an issue sent with files (`POST /api/issues` as multipart/form-data): the files are
  attached in the same transaction, so a refused file leaves neither the issue nor a file;
- deleting an issue: its files go once the deletion has committed (never before, so a
  rolled-back deletion loses nothing).

The attachments domain implements it (`IssueFilesInStore`, in its service) and the composition
root hands it over: `tracker.app.create_app` puts it on the application, whose
`IssueFileStore` dependency passes it to the service, where it is a required argument of every
function that files or deletes an issue. An application without it refuses those requests with
an error instead of filing or deleting without the files. The counts an issue shows
(`comment_count`, `attachment_count`) are kept by the database itself (migration 0009), so
issues needs nothing else from either domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.multipart import ReceivedFile


class IssueFiles(Protocol):
    async def store_with_new_issue(
        self, session: AsyncSession, issue_id: int, reporter: User, files: Sequence[ReceivedFile]
    ) -> int:
        """Attach the files sent with the issue `reporter` has just filed, in the session's
        transaction; how many were attached. Raises (a TrackerError) to refuse a file, which
        rolls the filing back with everything it wrote."""
        ...

    async def remove_after_deletion(self, session: AsyncSession, issue_id: int) -> None:
        """Remove the issue's files once the session's transaction, which deletes the issue,
        has committed."""
        ...
