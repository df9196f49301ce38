"""Structured logs: one JSON object per line, carrying the request id when there is one."""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import structlog

_json_lines = True
RENDERED = "_tracker_rendered"


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, passing through lines that were rendered already (log_request)."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, RENDERED, False):
            return record.getMessage()
        return super().format(record)


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    global _json_lines
    _json_lines = json
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = _Formatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log is replaced by ours, which carries the request id.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


ACCESS_LOGGER = "tracker.access"
_access = logging.getLogger(ACCESS_LOGGER)
_access_structlog = get_logger(ACCESS_LOGGER)


def log_request(**fields: Any) -> None:
    """The access log's line for one request.

    The same JSON object the structlog pipeline would write (event, the fields, request_id,
    level, logger, timestamp), rendered directly and handed to the stdlib handlers as a finished
    line: the general pipeline (processors, a second pass through ProcessorFormatter) cost about
    as much CPU as answering a small request. Console (development) output takes the usual path.
    """
    if not _access.isEnabledFor(logging.INFO):
        return
    if not _json_lines:
        _access_structlog.info("request", **fields)
        return
    context = structlog.contextvars.get_contextvars()
    line = {
        "event": "request",
        **fields,
        **context,
        "level": "info",
        "logger": ACCESS_LOGGER,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    record = _access.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, jsonlib.dumps(line), (), None)
    setattr(record, RENDERED, True)
    _access.handle(record)
