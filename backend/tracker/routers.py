"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.attachments.router import router as attachments_router
from tracker.auth.router import router as auth_router
from tracker.comments.router import router as comments_router
from tracker.imports.router import router as imports_router
from tracker.issues.router import router as issues_router
from tracker.notifications.router import router as notifications_router
from tracker.realtime.router import router as realtime_router
from tracker.stats.router import router as stats_router
from tracker.users.router import public_router as signup_router
from tracker.users.router import router as users_router
from tracker.views.router import router as views_router
from tracker.webhooks.router import router as webhooks_router

# Matched in this order, route by route: the busiest first.
API_ROUTERS: list[APIRouter] = [
    issues_router,
    comments_router,
    auth_router,
    signup_router,
    users_router,
    attachments_router,
    realtime_router,
    stats_router,
    notifications_router,
    views_router,
    imports_router,
    webhooks_router,
]
