"""JSON log lines are parseable, carry the current request id (none outside a request), keep ``extra``
fields and tracebacks, and split uvicorn's access-log arguments into fields."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys

from fluxops.core.logging import JsonFormatter, RequestIdFilter, request_id_var, uvicorn_log_config


def _record(name: str, msg: str, args: tuple[object, ...] = (), **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    RequestIdFilter().filter(rec)
    return rec


def test_json_lines_carry_the_request_id_of_the_context() -> None:
    fmt = JsonFormatter()
    outside = json.loads(fmt.format(_record("fluxops.x", "hello %s", ("world",), job_id="j1")))
    assert outside["message"] == "hello world" and outside["request_id"] is None
    assert outside["job_id"] == "j1" and outside["level"] == "INFO" and outside["logger"] == "fluxops.x"
    token = request_id_var.set("abc123")
    try:
        inside = json.loads(fmt.format(_record("fluxops.x", "in a request")))
    finally:
        request_id_var.reset(token)
    assert inside["request_id"] == "abc123"


def test_access_log_arguments_become_fields_and_tracebacks_are_kept() -> None:
    fmt = JsonFormatter()
    args = ("127.0.0.1:5000", "GET", "/api/jobs/x", "1.1", 404)
    line = json.loads(fmt.format(_record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args)))
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/jobs/x", 404)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = logging.LogRecord("fluxops.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "RuntimeError: boom" in json.loads(fmt.format(rec))["exception"]


def test_uvicorn_log_config_installs_one_json_handler_for_our_code_and_uvicorn() -> None:
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
        for n in names
    }
    try:
        logging.config.dictConfig(uvicorn_log_config("json", "info"))
        handler = logging.getLogger().handlers[0]
        assert logging.getLogger("uvicorn.access").handlers == [handler]
        assert isinstance(handler, logging.StreamHandler)
        stream = io.StringIO()
        handler.setStream(stream)
        token = request_id_var.set("rid-1")
        try:
            logging.getLogger("fluxops.test").info("from our code")
            logging.getLogger("uvicorn.access").info("%s", "from uvicorn")
        finally:
            request_id_var.reset(token)
        lines = [json.loads(x) for x in stream.getvalue().splitlines()]
        assert [(x["message"], x["request_id"]) for x in lines] == [
            ("from our code", "rid-1"),
            ("from uvicorn", "rid-1"),
        ]
    finally:
        for n, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
