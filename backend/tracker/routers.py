"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.realtime.router import router as realtime_router

API_ROUTERS: list[APIRouter] = [realtime_router]
