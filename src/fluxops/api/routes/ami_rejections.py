"""Dead letters of AMI ingestion under ``/api/ami/rejections`` (operator or admin; replay: admin).

Messages an ingestion path could not store (today: MQTT payloads that were unparseable, refused whole,
or met storage errors past their retries) are acknowledged into the dead-letter store under the data
directory; these routes list them with their reasons and hand back the kept payload bytes, so an
operator can see what a head-end sent and replay it once fixed (``POST /{id}/replay``: re-validated and
ingested like a new batch, `fluxops.ami.replay`). Read from disk on each call, so they also show what a
separate `fluxops ami mqtt` process wrote.
"""

from __future__ import annotations

from dataclasses import asdict

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from fluxops.ami.formats import ParseLimits
from fluxops.ami.replay import replay_letter
from fluxops.api.ami_runtime import ami_runtime
from fluxops.api.openapi import error_response
from fluxops.api.params import id_path
from fluxops.api.security import require_role
from fluxops.core.errors import NotFoundError
from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir

router = APIRouter(prefix="/api/ami/rejections", tags=["ami"])
OPERATOR = [Depends(require_role("operator"))]
ADMIN = [Depends(require_role("admin"))]


def _store(request: Request) -> DeadLetterDir:
    return DeadLetterDir(dead_letter_dir(request.app.state.settings))


@router.get("", dependencies=OPERATOR)
def list_rejections(request: Request, limit: int = Query(100, ge=1, le=10_000)) -> Response:
    """The newest dead letters first: id, received_utc, source, topic, reason, error, attempts,
    payload_bytes, status (``pending`` until a replay stored it), replays, replayed_utc; ``total``
    counts them all."""
    store = _store(request)
    rows = [asdict(d) for d in store.recent(limit=limit)]
    body = {"count": len(rows), "total": store.count(), "rows": rows}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/{letter_id}/payload", dependencies=OPERATOR)
def get_rejection_payload(request: Request, letter_id: str) -> Response:
    """The payload bytes exactly as received."""
    data = _store(request).get_payload(letter_id)
    if data is None:
        raise NotFoundError(f"no dead letter {letter_id!r}", details={"field": "letter_id"})
    return Response(data, media_type="application/octet-stream")


@router.post(
    "/{letter_id}/replay",
    dependencies=ADMIN,
    responses={
        503: error_response(
            503,
            "The AMI lake writer is busy or owned by another worker process: the letter is unchanged, retry",
        )
    },
)
def replay_rejection(request: Request, letter_id: str = id_path("Dead letter id, as listed")) -> Response:
    """Re-validate and ingest the letter's kept payload. 200 with ``outcome``: ``stored`` (with the
    ingestion report; replaying again finds duplicates and stores nothing twice) or ``rejected`` (still
    invalid; ``reason`` says why and the letter keeps it)."""
    out = replay_letter(
        _store(request),
        ami_runtime(request.app),
        letter_id,
        ParseLimits.from_settings(request.app.state.settings.ingest),
    )
    return Response(orjson.dumps(out.to_dict()), media_type="application/json")
