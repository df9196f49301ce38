"""Every domain's router, mounted under /api by the app factory."""

from fastapi import APIRouter

API_ROUTERS: list[APIRouter] = []
