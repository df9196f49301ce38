from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import MISSING, AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tracker.inputs import NOT_BLANK, strip_blank
from tracker.issues.schemas import IssueFilters
from tracker.refs import UserRef
from tracker.views.models import NAME_MAX_LENGTH

ViewName = Annotated[
    str,
    StringConstraints(max_length=NAME_MAX_LENGTH, pattern=NOT_BLANK),
    AfterValidator(strip_blank),
]


class ViewFilters(IssueFilters):
    """The issue list's filters, search and sort, as its query string names them."""

    model_config = ConfigDict(extra="forbid")


class ViewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ViewName
    filters: ViewFilters = Field(default_factory=ViewFilters)
    shared: bool = Field(default=False, description="Listed for the whole team (staff only)")


class ViewUpdate(BaseModel):
    """Only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    name: ViewName | MISSING = MISSING
    filters: ViewFilters | MISSING = MISSING
    shared: bool | MISSING = MISSING


class ViewOut(BaseModel):
    id: int
    name: str
    filters: IssueFilters
    shared: bool
    owner: UserRef
    editable: bool = Field(description="Whether the caller may rename, change or delete it")
    created_at: datetime
    updated_at: datetime
