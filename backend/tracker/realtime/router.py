"""WS /api/ws: one socket per browser tab, channels inside; GET /api/realtime/position: where
the feed stands, for pages to subscribe from (see docs/realtime.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, WebSocket

from tracker.auth.dependencies import CurrentUser, authenticates_in_band
from tracker.db import DbSession
from tracker.realtime import service
from tracker.realtime.dependencies import accept_viewer
from tracker.realtime.hub import Hub
from tracker.realtime.protocol import serve_socket
from tracker.realtime.schemas import StreamPosition

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


@router.get(
    "/realtime/position",
    response_model=StreamPosition,
    summary="The live feed's position: read it before loading data, subscribe with it as since",
)
async def stream_position(session: DbSession, user: CurrentUser) -> StreamPosition:
    """The newest event id. A page that reads it *before* loading what it shows, and subscribes
    with it as `since`, gets every change committed after its data was read, with no gap."""
    return await service.stream_position(session)
