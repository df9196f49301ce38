"""WS /api/ws: one socket per browser tab, channels inside (see docs/realtime.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, WebSocket

from tracker.auth.dependencies import authenticates_in_band
from tracker.realtime.dependencies import accept_viewer
from tracker.realtime.hub import Hub
from tracker.realtime.protocol import serve_socket

router = APIRouter(tags=["realtime"])


# Authenticated inside the handshake (session cookie with an Origin check, or a first `auth`
# message), and authorized again on every subscribe and before every send.
@router.websocket("/ws", dependencies=[Depends(authenticates_in_band)])
async def realtime_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.realtime
    assert hub.sessionmaker is not None
    viewer = await accept_viewer(websocket, hub.settings, hub.sessionmaker, hub.timing.auth_timeout)
    if viewer is not None:
        await serve_socket(hub, websocket, viewer)
