"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.attachments.router import router as attachments_router
from tracker.auth.router import router as auth_router
from tracker.comments.router import router as comments_router
from tracker.issues.router import router as issues_router
from tracker.stats.router import router as stats_router
from tracker.users.router import router as users_router

API_ROUTERS: list[APIRouter] = [
    auth_router,
    users_router,
    issues_router,
    comments_router,
    attachments_router,
    stats_router,
]
