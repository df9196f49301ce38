from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from tracker.auth import service as auth_service
from tracker.auth.dependencies import (
    AdminUser,
    AppSettings,
    ClientIp,
    CurrentUser,
    SessionFactory,
    StaffUser,
    anyone,
)
from tracker.auth.schemas import SignupRequest
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import INT4_MAX, NUL_FREE, JsonBodyRoute
from tracker.roles import Role
from tracker.users import service
from tracker.users.schemas import ProfileUpdate, StaffMember, UserOut, UserPage, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=JsonBodyRoute)
# Sign-up makes an account without one: it sits with the auth routes in the API's layout.
public_router = APIRouter(tags=["auth"], dependencies=[Depends(anyone)], route_class=JsonBodyRoute)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.model_validate(user)


@router.patch(
    "/me",
    response_model=UserOut,
    responses=problems((409, "The username is taken")),
)
async def update_me(changes: ProfileUpdate, user: CurrentUser, session: DbSession) -> UserOut:
    """Change your own username or name."""
    return await service.update_profile(session, user_id=user.id, changes=changes)


@router.get("", response_model=UserPage)
async def list_users(
    _admin: AdminUser,
    session: DbSession,
    role: Role | None = None,
    is_active: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NUL_FREE, description="Part of e-mail or name")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT4_MAX)] = 0,
) -> UserPage:
    """Every account, newest first (ADMIN only)."""
    return await service.list_users(
        session, role=role, is_active=is_active, q=q, limit=limit, offset=offset
    )


@router.get("/staff", response_model=list[StaffMember])
async def staff(_staff: StaffUser, session: DbSession) -> list[StaffMember]:
    """Active MAINTAINERs and ADMINs: the people issues can be assigned to."""
    return await service.list_staff(session)


@router.patch(
    "/{user_id:int}",
    response_model=UserOut,
    responses=problems(
        404, (409, "It would leave no active admin, demote the caller, or take a username in use")
    ),
)
async def update_user(
    user_id: Annotated[int, Path(ge=1, le=INT4_MAX)],
    changes: UserUpdate,
    admin: AdminUser,
    session: DbSession,
) -> UserOut:
    """Change a role or (de)activate an account (ADMIN only). Nobody can remove the last
    active admin, and an admin cannot demote or deactivate themselves."""
    return await service.update_user(session, actor=admin, user_id=user_id, changes=changes)


@public_router.post(
    "/auth/signup",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(
        (409, "An account with this e-mail address exists"),
        (422, "A value is invalid, or the password is too weak (weak_password)"),
        429,
    ),
)
async def signup(
    body: SignupRequest,
    session: DbSession,
    sessions: SessionFactory,
    settings: AppSettings,
    ip: ClientIp,
) -> UserOut:
    """Create an account. It is always a REPORTER, whatever else the request carries."""
    user = await auth_service.signup(
        session,
        sessions,
        settings,
        email=str(body.email),
        password=body.password,
        full_name=body.full_name,
        ip=ip,
        username=body.username,
    )
    return UserOut.model_validate(user)
