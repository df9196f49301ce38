"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.attachments.router import router as attachments_router
from tracker.realtime.router import router as realtime_router
from tracker.stats.router import router as stats_router

API_ROUTERS: list[APIRouter] = [attachments_router, realtime_router, stats_router]
