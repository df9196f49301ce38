"""Opaque keyset cursors: the last row's sort key and id, base64-encoded JSON.

A cursor is only valid for the sort it was made with; the id breaks ties, so a row is never
skipped or repeated when rows share a key or new rows are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from tracker.errors import BadRequest
from tracker.inputs import INT4_MAX

Key = datetime | int | float


@dataclass(frozen=True)
class Cursor:
    sort: str
    key: Key
    id: int


def encode_cursor(sort: str, key: Key, row_id: int) -> str:
    value: str | int | float = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": value, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _invalid() -> BadRequest:
    return BadRequest(
        "The cursor is not valid for this listing: start again from the first page",
        code="invalid_cursor",
    )


def decode_id_cursor(token: str | None) -> int | None:
    """A page cursor that is a row id (comments, events): the last id the previous page held.

    Only ASCII digits count: `str.isdigit` also takes '²', which `int()` refuses.
    """
    if not token:
        return None
    if not (token.isascii() and token.isdecimal()) or not 1 <= int(token) <= INT4_MAX:
        raise BadRequest(
            "cursor: not a cursor of this listing; start again from the first page",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "not a next_cursor", "type": "invalid_cursor"}],
        )
    return int(token)


def decode_cursor(token: str, sort: str, kind: type[datetime] | type[int] | type[float]) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("s") != sort:
            raise _invalid()
        row_id, value = payload["i"], payload["k"]
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise _invalid()
        key: Key
        if kind is datetime:
            key = datetime.fromisoformat(value)
            if key.tzinfo is None:
                raise _invalid()
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise _invalid()
            key = value
        else:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _invalid()
            key = float(value)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise _invalid() from exc
    return Cursor(sort, key, row_id)
