"""Every table's model, imported once so the metadata is complete (Alembic, tests)."""

from tracker.activity.models import IssueEvent
from tracker.attachments.models import Attachment
from tracker.auth.models import (
    AuthorizationCode,
    ExternalIdentity,
    LoginAttempt,
    OidcLoginState,
    RefreshToken,
    User,
)
from tracker.comments.models import Comment
from tracker.db import Base
from tracker.issues.models import Issue, Tag, issue_tags
from tracker.stats.models import DailyStat

__all__ = [
    "Attachment",
    "AuthorizationCode",
    "Base",
    "Comment",
    "DailyStat",
    "ExternalIdentity",
    "Issue",
    "IssueEvent",
    "LoginAttempt",
    "OidcLoginState",
    "RefreshToken",
    "Tag",
    "User",
    "issue_tags",
]
