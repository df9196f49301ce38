from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from tracker.auth.dependencies import AdminUser, AppSettings
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import ID_CURSOR, INT4_MAX, JsonBodyRoute
from tracker.outbox import OutboxState
from tracker.webhooks import service
from tracker.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EventKind,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=JsonBodyRoute)

WebhookId = Annotated[int, Path(ge=1, le=INT4_MAX)]
REFUSED_URL = (
    422,
    "A value is invalid, or the URL is refused: invalid_webhook_url, webhook_host_not_found, "
    "webhook_address_not_allowed (a loopback, private or other non-public address)",
)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(_admin: AdminUser, session: DbSession) -> list[WebhookOut]:
    """Every webhook endpoint, oldest first, with its newest delivery (ADMIN only)."""
    return await service.list_endpoints(session)


@router.get("/events", response_model=list[EventKind])
async def event_kinds(_admin: AdminUser) -> list[EventKind]:
    """The activity kinds a webhook can subscribe to (or "*" for all of them)."""
    return service.list_event_kinds()


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses=problems((409, "There are too many webhooks already"), REFUSED_URL),
)
async def create_webhook(
    body: WebhookCreate, admin: AdminUser, session: DbSession, settings: AppSettings
) -> WebhookWithSecret:
    """Register an endpoint (ADMIN only). The answer carries the signing secret: it is shown
    this once and never again (rotate it to get a new one)."""
    return await service.create_endpoint(session, settings, actor=admin, data=body)


@router.get("/{webhook_id:int}", response_model=WebhookOut, responses=problems(404))
async def get_webhook(webhook_id: WebhookId, _admin: AdminUser, session: DbSession) -> WebhookOut:
    """One endpoint (ADMIN only); never its secret."""
    return await service.get_endpoint(session, webhook_id)


@router.patch("/{webhook_id:int}", response_model=WebhookOut, responses=problems(404, REFUSED_URL))
async def update_webhook(
    webhook_id: WebhookId,
    changes: WebhookUpdate,
    _admin: AdminUser,
    session: DbSession,
    settings: AppSettings,
) -> WebhookOut:
    """Change the URL, the events, the description, or switch it off and on (ADMIN only).
    Events that happen while it is off are not delivered later."""
    return await service.update_endpoint(session, settings, endpoint_id=webhook_id, changes=changes)


@router.delete("/{webhook_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def delete_webhook(webhook_id: WebhookId, _admin: AdminUser, session: DbSession) -> Response:
    """Delete an endpoint with its deliveries and their log (ADMIN only)."""
    await service.delete_endpoint(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id:int}/rotate-secret", response_model=WebhookWithSecret, responses=problems(404)
)
async def rotate_secret(
    webhook_id: WebhookId, _admin: AdminUser, session: DbSession
) -> WebhookWithSecret:
    """Replace the signing secret (ADMIN only); the new one is shown this once. Every delivery
    from now on, retries of earlier ones too, is signed with it."""
    return await service.rotate_secret(session, webhook_id)


@router.get(
    "/{webhook_id:int}/deliveries",
    response_model=DeliveryPage,
    responses=problems(400, 404),
)
async def list_deliveries(
    webhook_id: WebhookId,
    _admin: AdminUser,
    session: DbSession,
    state: OutboxState | None = None,
    cursor: Annotated[str | None, Query(max_length=10, **ID_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DeliveryPage:
    """An endpoint's deliveries, newest event first, each with its newest tries (ADMIN only)."""
    return await service.list_deliveries(
        session, endpoint_id=webhook_id, cursor=cursor, state=state, limit=limit
    )


@router.post(
    "/{webhook_id:int}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(404, (409, "A try of this delivery is in flight")),
)
async def redeliver(
    webhook_id: WebhookId, delivery_id: uuid.UUID, _admin: AdminUser, session: DbSession
) -> DeliveryOut:
    """Send a delivery again: due now, with a new schedule of tries (ADMIN only)."""
    return await service.redeliver(session, endpoint_id=webhook_id, delivery_id=delivery_id)
