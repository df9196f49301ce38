"""WS /api/ws: one socket per browser tab, channels inside (see docs/realtime.md)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from tracker.realtime.dependencies import accept_viewer
from tracker.realtime.hub import Hub
from tracker.realtime.protocol import serve_socket

router = APIRouter(tags=["realtime"])


@router.websocket("/ws")
async def realtime_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.realtime
    assert hub.sessionmaker is not None
    viewer = await accept_viewer(websocket, hub.settings, hub.sessionmaker, hub.timing.auth_timeout)
    if viewer is not None:
        await serve_socket(hub, websocket, viewer)
