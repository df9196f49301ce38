"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

from tracker.auth.router import router as auth_router
from tracker.users.router import router as users_router

API_ROUTERS: list[APIRouter] = [auth_router, users_router]
