"""Reading an import file into rows of fields: CSV (the delimiter guessed from the header) or
JSON (an array of objects). Pure, bounded in bytes, rows and cell size; no database."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from tracker.inputs import decode_json

FIELDS = (
    "title",
    "description",
    "severity",
    "status",
    "tags",
    "reporter_email",
    "assignee_email",
    "created_at",
    "external_id",
)
REQUIRED = ("title",)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
# Longer than any field takes (a description is at most 50,000 characters).
MAX_CELL = 100_000
_DELIMITERS = ",;\t|"


class FileRefused(Exception):
    """The file as a whole cannot be imported: answered before anything is queued."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass
class Parsed:
    # (row number as a person finds it: the CSV line, or the JSON item counted from 1, fields)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # as the file names them
    ignored: list[str] = field(default_factory=list)  # columns that map to no field


def check_mapping(mapping: dict[str, str]) -> None:
    unknown = sorted({v for v in mapping.values() if v not in FIELDS})
    if unknown:
        raise FileRefused(
            422,
            "invalid_mapping",
            f"The mapping names unknown fields: {', '.join(unknown)}; "
            f"the fields are {', '.join(FIELDS)}",
        )


def _field_of(column: str, mapping: dict[str, str]) -> str | None:
    name = column.strip()
    if name in mapping:
        return mapping[name]
    lowered = name.lower().replace(" ", "_")
    return lowered if lowered in FIELDS else None


def _text(source: bytes) -> str:
    if len(source) > MAX_FILE_BYTES:
        raise FileRefused(
            413, "file_too_large", f"An import file is at most {MAX_FILE_BYTES // 2**20} MB"
        )
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            422,
            "not_utf8",
            f"The file is not UTF-8 text (byte {exc.start} is not): save it as UTF-8 and try again",
        ) from None


def _columns(names: list[str], mapping: dict[str, str]) -> tuple[list[str | None], list[str]]:
    fields = [_field_of(name, mapping) for name in names]
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        shown = ", ".join(repr(n) for n in names[:10]) or "nothing"
        raise FileRefused(
            422,
            "missing_column",
            f"No {' or '.join(missing)} column: the header has {shown}. Map a column to "
            f"{missing[0]}, or check the delimiter",
        )
    duplicated = sorted({f for f in fields if f and fields.count(f) > 1})
    if duplicated:
        raise FileRefused(
            422, "duplicate_column", f"More than one column maps to {', '.join(duplicated)}"
        )
    return fields, [n for n, f in zip(names, fields, strict=True) if f is None]


def _too_many() -> FileRefused:
    return FileRefused(
        413, "too_many_rows", f"An import has at most {MAX_ROWS:,} rows: split the file"
    )


def _cell(value: Any, row: int, name: str) -> Any:
    if isinstance(value, str) and len(value) > MAX_CELL:
        raise FileRefused(
            422,
            "cell_too_large",
            f"Row {row}, {name}: a cell holds at most {MAX_CELL:,} characters",
        )
    return value


def parse_csv(source: bytes, mapping: dict[str, str]) -> Parsed:
    text = _text(source)
    sample = text[:65536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, _DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if header is None:
            raise FileRefused(422, "empty_file", "The file is empty: it needs a header row")
        fields, ignored = _columns(header, mapping)
        parsed = Parsed(columns=header, ignored=ignored)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise _too_many()
            values = {
                name: _cell(cell, reader.line_num, name)
                for name, cell in zip(fields, record, strict=False)
                if name is not None
            }
            parsed.rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise FileRefused(
            422, "invalid_csv", f"Line {reader.line_num} is not valid CSV: {exc}"
        ) from None
    return parsed


def parse_json(source: bytes, mapping: dict[str, str]) -> Parsed:
    text = _text(source)
    try:
        items = decode_json(text.encode())
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FileRefused(422, "invalid_json", f"The file is not valid JSON: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FileRefused(
            422, "invalid_json", "A JSON import is an array of objects, one per issue"
        )
    if len(items) > MAX_ROWS:
        raise _too_many()
    names = list(dict.fromkeys(k for item in items for k in item))
    if not items:
        raise FileRefused(422, "empty_file", "The file holds no issues")
    fields, ignored = _columns(names, mapping)
    by_name = dict(zip(names, fields, strict=True))
    parsed = Parsed(columns=names, ignored=ignored)
    for number, item in enumerate(items, start=1):
        values = {
            by_name[k]: _cell(v, number, k) for k, v in item.items() if by_name[k] is not None
        }
        parsed.rows.append((number, values))
    return parsed


def parse(source: bytes, fmt: str, mapping: dict[str, str]) -> Parsed:
    check_mapping(mapping)
    return parse_json(source, mapping) if fmt == "json" else parse_csv(source, mapping)
