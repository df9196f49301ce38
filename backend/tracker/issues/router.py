"""Issue endpoints: list and search, file, read, edit (If-Match), delete, history, helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from tracker.auth.dependencies import AdminUser, CurrentUser, StaffUser
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import ID_CURSOR, NUL_FREE, JsonBodyRoute
from tracker.issues import bulk, changes, export, service, watching
from tracker.issues.dependencies import (
    IfMatch,
    IssueFileStore,
    IssueForViewer,
    IssueId,
    NewIssueBody,
    etag,
    version_from_if_match,
)
from tracker.issues.schemas import (
    CREATE_REQUEST_BODY,
    BulkResult,
    BulkUpdate,
    EventPage,
    ExportQuery,
    IssueDetail,
    IssuePage,
    IssueQuery,
    IssueUpdate,
    MarkdownPreviewIn,
    MarkdownPreviewOut,
    SimilarIssue,
    TagOut,
)
from tracker.markdown import render_markdown_off_loop
from tracker.refs import UserRef
from tracker.roles import is_staff

router = APIRouter(tags=["issues"], route_class=JsonBodyRoute)


@router.get(
    "/issues",
    response_model=IssuePage,
    summary="List and search issues",
    responses=problems((400, "The cursor is not one this listing handed out")),
)
async def list_issues(
    session: DbSession, user: CurrentUser, query: Annotated[IssueQuery, Query()]
) -> IssuePage:
    return await service.list_issues(session, user, query)


@router.post(
    "/issues",
    response_model=IssueDetail,
    status_code=status.HTTP_201_CREATED,
    summary="File an issue, with files if sent as multipart/form-data",
    description="JSON, or multipart/form-data with the same fields and one `file` part per "
    "file. The issue and its files are created together: if any file is refused (too large, "
    "a type that is not allowed, too many), nothing is created.",
    openapi_extra={"requestBody": CREATE_REQUEST_BODY},
    responses=problems(
        (400, "A malformed multipart body"),
        (409, "More files than an issue may have"),
        (413, "A file is larger than the upload limit"),
        (415, "A file's type is not allowed, or the body is neither JSON nor multipart"),
        422,
    ),
)
async def create_issue(
    session: DbSession,
    user: CurrentUser,
    body: NewIssueBody,
    files: IssueFileStore,
    response: Response,
) -> IssueDetail:
    issue = await changes.create_issue(session, user, body.data, body.files, files=files)
    response.headers["ETag"] = etag(issue.version)
    response.headers["Location"] = f"/api/issues/{issue.id}"
    return issue


@router.get(
    "/issues/similar",
    response_model=list[SimilarIssue],
    summary="Issues with a title like this one (duplicate hint)",
)
async def similar_issues(
    session: DbSession,
    user: CurrentUser,
    q: Annotated[str, Query(max_length=200, pattern=NUL_FREE)] = "",
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> list[SimilarIssue]:
    return await service.similar_issues(session, user, q, limit)


@router.get(
    "/issues/assignees",
    response_model=list[UserRef],
    summary="People an issue can be assigned to",
)
async def assignees(session: DbSession, user: StaffUser) -> list[UserRef]:
    return await service.assignable_users(session)


@router.get(
    "/issues/{issue_id:int}",
    response_model=IssueDetail,
    summary="One issue",
    responses=problems(404),
)
async def get_issue(
    session: DbSession, user: CurrentUser, issue_id: IssueId, response: Response
) -> IssueDetail:
    issue = await service.get_issue(session, user, issue_id)
    response.headers["ETag"] = etag(issue.version)
    return issue


@router.patch(
    "/issues/{issue_id:int}",
    response_model=IssueDetail,
    summary="Edit, move through the workflow, assign or tag an issue",
    responses=problems(
        (403, "The caller may not change these fields, or this issue any more"),
        404,
        (409, "Not a valid workflow step"),
        412,
        (422, "A value is invalid, or the assignee is not an active maintainer or admin"),
        428,
    ),
)
async def update_issue(
    session: DbSession,
    user: CurrentUser,
    issue_id: IssueId,
    body: IssueUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> IssueDetail:
    version = version_from_if_match(if_match)
    issue = await changes.update_issue(session, user, issue_id, version, body)
    response.headers["ETag"] = etag(issue.version)
    return issue


@router.get(
    "/issues/export",
    response_class=StreamingResponse,
    summary="Export the issues a listing shows, as CSV or JSON",
    responses={
        200: {
            "description": "Every matching issue, in issue order, streamed",
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
        },
        **problems(400),
    },
)
async def export_issues(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    query: Annotated[ExportQuery, Query()],
) -> StreamingResponse:
    """The list's filters and search, scoped by role like the list; cells a spreadsheet would
    run as formulas are prefixed with '. E-mail addresses are in staff exports only."""
    flt = await service.list_filter(session, user, query, words=False)
    params = await export.export_params(session, flt)
    day = datetime.now(UTC).date().isoformat()
    return StreamingResponse(
        export.stream(
            request.app.state.sessionmaker, flt, params, query.format, emails=is_staff(user)
        ),
        media_type=export.MEDIA_TYPES[query.format],
        headers={
            "Content-Disposition": f'attachment; filename="issues-{day}.{query.format}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/issues/bulk",
    response_model=BulkResult,
    summary="Change many issues at once",
    responses=problems((422, "The request is malformed; refusals of single issues are listed")),
)
async def bulk_update(session: DbSession, user: CurrentUser, body: BulkUpdate) -> BulkResult:
    """Each issue is changed as a PATCH of it alone would change it (same rules, workflow and
    event), on its own: the answer lists those applied and why each other one was refused."""
    return await bulk.bulk_update(session, user, body)


@router.delete(
    "/issues/{issue_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an issue and everything on it",
    responses=problems(404),
)
async def delete_issue(
    session: DbSession, user: AdminUser, issue_id: IssueId, files: IssueFileStore
) -> Response:
    await changes.delete_issue(session, user, issue_id, files=files)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/issues/{issue_id:int}/watch",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Watch an issue: be told about its comments, moves and files",
    responses=problems(404),
)
async def watch(session: DbSession, user: CurrentUser, issue: IssueForViewer) -> Response:
    await watching.set_watching(session, issue.id, user.id, True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/issues/{issue_id:int}/watch",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop watching an issue (also for its reporter or assignee)",
    responses=problems(404),
)
async def unwatch(session: DbSession, user: CurrentUser, issue: IssueForViewer) -> Response:
    await watching.set_watching(session, issue.id, user.id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/issues/{issue_id:int}/events",
    response_model=EventPage,
    summary="An issue's activity history",
    responses=problems((400, "The cursor is not one this listing handed out"), 404),
)
async def list_events(
    session: DbSession,
    user: CurrentUser,
    issue: IssueForViewer,
    cursor: Annotated[str | None, Query(json_schema_extra=ID_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> EventPage:
    return await service.list_events(session, user, issue.id, cursor, limit)


@router.get("/tags", response_model=list[TagOut], summary="Tags, for filters and autocomplete")
async def list_tags(
    session: DbSession,
    user: CurrentUser,
    q: Annotated[
        str | None, Query(max_length=30, pattern=NUL_FREE, description="name prefix")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[TagOut]:
    return await service.list_tags(session, user, q, limit)


@router.post(
    "/markdown/preview",
    response_model=MarkdownPreviewOut,
    summary="Render Markdown exactly as an issue or comment would show it",
)
async def preview_markdown(user: CurrentUser, body: MarkdownPreviewIn) -> MarkdownPreviewOut:
    return MarkdownPreviewOut(html=await render_markdown_off_loop(body.text))
