"""Log format for the server: plain text (default) or one JSON object per line, both with request ids.

Why JSON as an option: an operator's IT team ships logs to a collector (Loki, Elastic, Splunk) that
parses JSON without regexes. Why request ids in every line: the API puts the same id in the
``X-Request-ID`` header and in every error body, so a user's error report leads straight to its log
lines. The id lives in a context variable set by the API's request middleware; contextvars follow the
request into ``run_in_threadpool`` / ``asyncio.to_thread`` workers, so domain code logs it without
knowing about HTTP. `uvicorn_log_config` gives uvicorn (including its access log) the same handler.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["plain", "json"]

request_id_var: ContextVar[str | None] = ContextVar("fluxops_request_id", default=None)

PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
# uvicorn's access-log record args: (client address, method, full path, HTTP version, status code)
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
# Standard record attributes, and uvicorn's ANSI-coloured copy of its message: not fields of their own.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id, ``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id, and for
    uvicorn's access log the request's fields; ``extra=`` values and tracebacks are kept."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None) or request_id_var.get()
        out: dict[str, Any] = {
            "time_utc": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": rid if rid and rid != "-" else None,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            out.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in out and key != "request_id":
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT)


def uvicorn_log_config(fmt: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for ``uvicorn.run(log_config=...)``: one stderr handler with the
    chosen format and the request-id filter, used by the root logger (our code) and by uvicorn's
    server and access loggers alike."""
    level = level.upper()
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if fmt == "json" else {"format": PLAIN_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"fluxops": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "fluxops",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["default"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": level},
    }
