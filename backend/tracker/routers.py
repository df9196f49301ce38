"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.comments.router import router as comments_router
from tracker.issues.router import router as issues_router

API_ROUTERS: list[APIRouter] = [issues_router, comments_router]
