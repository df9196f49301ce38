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
from tracker.imports.models import Import
from tracker.issues.models import Issue, IssueWatch, Tag, issue_tags
from tracker.notifications.models import (
    EventCursor,
    Notification,
    NotificationSetting,
    OutgoingMail,
)
from tracker.stats.models import DailyStat
from tracker.views.models import SavedView
from tracker.webhooks.models import (
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "Attachment",
    "AuthorizationCode",
    "Base",
    "Comment",
    "DailyStat",
    "EventCursor",
    "ExternalIdentity",
    "Import",
    "Issue",
    "IssueEvent",
    "IssueWatch",
    "LoginAttempt",
    "Notification",
    "NotificationSetting",
    "OidcLoginState",
    "OutgoingMail",
    "RefreshToken",
    "SavedView",
    "Tag",
    "User",
    "WebhookAttempt",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "issue_tags",
]
