"""What the API says about attachments."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from tracker.config import Settings


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    issue_id: int
    uploader_id: int | None
    uploader_name: str | None = None
    filename: str = Field(description="The original name, normalised; display only")
    content_type: str = Field(description="The type detected from the file's content")
    size_bytes: int
    sha256: str
    has_thumbnail: bool
    created_at: datetime

    @computed_field(description="Download (and inline preview for images and PDFs)")  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/attachments/{self.id}"

    @computed_field(description="A small WebP of an image, else null")  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str | None:
        return f"/api/attachments/{self.id}/thumbnail" if self.has_thumbnail else None

    @computed_field(description="How a browser may preview it inline: image, pdf or none")  # type: ignore[prop-decorator]
    @property
    def preview(self) -> str:
        if self.content_type.startswith("image/"):
            return "image"
        if self.content_type == "application/pdf":
            return "pdf"
        return "none"


class UploadLimits(BaseModel):
    """What uploads the API accepts, so the pages check files against the real limits (an
    operator may change them) before sending any."""

    max_file_bytes: int = Field(description="Largest accepted file, in bytes (MAX_UPLOAD_BYTES)")
    max_files_per_issue: int = Field(
        description="Most files one issue can carry (MAX_ATTACHMENTS_PER_ISSUE)"
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_file_bytes=settings.max_upload_bytes,
            max_files_per_issue=settings.max_attachments_per_issue,
        )
