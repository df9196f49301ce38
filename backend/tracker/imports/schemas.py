from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tracker.imports.models import ImportState, OnError, UnknownPeople


class RefusedRow(BaseModel):
    row: int = Field(description="The CSV line (the header is line 1), or the JSON item from 1")
    reason: str


class DryRunReport(BaseModel):
    """What the import would do, row by row, without doing it."""

    rows: int
    create: int
    update: int = Field(description="Rows whose external_id matches an issue already here")
    unchanged: int = Field(description="Rows that match an issue already as the row says")
    refused: int
    refusals: list[RefusedRow] = Field(description="The first 1,000 refused rows, and why")
    new_reporters: int = Field(description="Inactive REPORTERs that would be created")
    ignored_columns: list[str] = Field(description="Columns that map to no field")


class ImportOut(BaseModel):
    id: int
    state: ImportState
    filename: str
    format: str
    on_error: OnError
    unknown_reporters: UnknownPeople
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    refused: int
    refusals: list[RefusedRow]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
