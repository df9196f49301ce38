"""Who is on a socket: the web session cookie from an allowed Origin, or a first auth message.

No token ever travels in the URL (URLs end up in logs). A browser sends the httpOnly
`tracker_access` cookie with the upgrade request because the web server proxies /api/ws on the
same origin; the Origin allow-list stops another site from riding that cookie (cross-site
WebSocket hijacking). Scripts send `{"type": "auth", "token": ...}` as their first message.
"""

from __future__ import annotations

import asyncio

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth import sessions as auth_sessions
from tracker.auth.dependencies import ACCESS_COOKIE
from tracker.auth.tokens import decode_access_token
from tracker.config import Settings
from tracker.errors import Unauthorized
from tracker.observability.metrics import WS_DROPPED
from tracker.realtime.connection import CLOSE_POLICY, Viewer
from tracker.realtime.schemas import CLIENT_MESSAGE, AuthMessage


class SocketRefused(Exception):
    """The socket must be closed with 1008 (policy violation) and this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _first_message_token(websocket: WebSocket, wait: float) -> str:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), wait)
    except TimeoutError as exc:
        raise SocketRefused('Authenticate first: send {"type": "auth", "token": ...}') from exc
    try:
        message = CLIENT_MESSAGE.validate_json(text)
    except ValidationError as exc:
        raise SocketRefused('The first message must be {"type": "auth", ...}') from exc
    if not isinstance(message, AuthMessage):
        raise SocketRefused('The first message must be {"type": "auth", ...}')
    return message.token


async def authenticate_socket(
    websocket: WebSocket,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth_timeout: float,
) -> Viewer:
    cookie = websocket.cookies.get(ACCESS_COOKIE)
    if cookie:
        if websocket.headers.get("origin") not in settings.origins:
            raise SocketRefused("Origin not allowed")
        token = cookie
    else:
        token = await _first_message_token(websocket, auth_timeout)
    claims = decode_access_token(settings, token)
    if claims is None:
        raise SocketRefused("The access token is invalid or expired")
    async with sessionmaker() as session:
        # The same check as every HTTP request: an active account and a live sign-in session.
        try:
            user = await auth_sessions.user_for_access(
                session, claims, websocket.app.state.access_cache
            )
        except Unauthorized as exc:
            raise SocketRefused(exc.detail) from exc
        return Viewer(user.id, user.full_name, user.role, claims.session_id, user.is_active)


async def accept_viewer(
    websocket: WebSocket,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth_timeout: float,
) -> Viewer | None:
    """Accept, then authenticate; refused sockets are closed with 1008 and give None.

    Accepting first lets the browser see the 1008 code and reason (a refused handshake
    surfaces only as a generic 1006).
    """
    await websocket.accept()
    try:
        return await authenticate_socket(websocket, settings, sessionmaker, auth_timeout)
    except SocketRefused as exc:
        WS_DROPPED.labels(reason="unauthenticated").inc()
        await websocket.close(CLOSE_POLICY, exc.reason)
    except WebSocketDisconnect:
        pass
    return None
