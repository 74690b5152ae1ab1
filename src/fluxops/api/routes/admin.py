"""Administration (admin role): load a grid, manage API keys, read the audit log."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.audit import flush_refusals
from fluxops.api.deps import get_store, grid_cache
from fluxops.api.params import JsonInt, id_path, one_of
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError
from fluxops.grid.generator import PRESETS, generate_grid
from fluxops.grid.validation import validate_grid
from fluxops.security.keys import MAX_LABEL_CHARS
from fluxops.security.ports import ROLES
from fluxops.security.service import active_api_keys, create_api_key, revoke_api_key

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_role("admin"))])

MAX_AUDIT_ENTRIES = 1000


class LoadGridIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    preset: one_of(tuple(PRESETS)) = Field("demo", description="Synthetic utility preset")  # type: ignore[valid-type]
    seed: JsonInt = Field(42, ge=0, le=2**31 - 1, description="Generator seed (same seed, same grid)")


class LoadGridOut(BaseModel):
    name: str
    source: str
    content_hash: str
    changed: bool  # False: the same grid was already loaded
    counts: dict[str, int]
    generate_s: float
    load_s: float


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    role: one_of(tuple(ROLES)) = Field(..., description="The key's role")  # type: ignore[valid-type]
    label: str = Field("", max_length=MAX_LABEL_CHARS, description="Who or what the key is for")


class KeyOut(BaseModel):
    key_id: str
    role: str
    label: str
    created_utc: datetime
    revoked: bool


class IssuedKeyOut(KeyOut):
    token: str = Field(..., description="Shown once: send as 'Authorization: Bearer <token>'")


class AuditOut(BaseModel):
    at_utc: datetime
    actor: str
    role: str
    method: str
    path: str
    status_code: int
    detail: dict[str, Any]


@router.post("/grid", summary="Generate a synthetic utility, validate it and load it (atomic swap)")
def load_grid(body: LoadGridIn, request: Request) -> LoadGridOut:
    if body.preset not in PRESETS:
        raise InvalidInputError(
            f"unknown preset {body.preset!r}; choose one of {', '.join(PRESETS)}", field="preset"
        )
    t0 = time.perf_counter()
    grid = generate_grid(body.preset, seed=body.seed)
    validate_grid(grid)
    t1 = time.perf_counter()
    report = get_store(request).load_grid(grid)
    grid_cache(request.app).invalidate()
    return LoadGridOut(
        name=report.info.name,
        source=report.info.source,
        content_hash=report.info.content_hash,
        changed=report.changed,
        counts=report.info.counts,
        generate_s=round(t1 - t0, 3),
        load_s=round(time.perf_counter() - t1, 3),
    )


@router.post("/keys", summary="Create an API key (the token is returned once)", status_code=201)
def create_key(body: KeyIn, request: Request) -> IssuedKeyOut:
    issued = create_api_key(get_store(request), role=body.role, label=body.label)
    r = issued.record
    return IssuedKeyOut(
        key_id=r.key_id,
        role=r.role,
        label=r.label,
        created_utc=r.created_utc,
        revoked=r.revoked,
        token=issued.token,
    )


@router.get("/keys", summary="List API keys (ids, roles, labels; never secrets or hashes)")
def list_keys(
    request: Request, include_revoked: bool = Query(False, description="Also list revoked keys")
) -> list[KeyOut]:
    store = get_store(request)
    records = store.list_api_keys() if include_revoked else active_api_keys(store)
    return [
        KeyOut(key_id=r.key_id, role=r.role, label=r.label, created_utc=r.created_utc, revoked=r.revoked)
        for r in records
    ]


@router.delete("/keys/{key_id}", summary="Revoke an API key", status_code=204)
def delete_key(request: Request, key_id: str = id_path("API key id")) -> None:
    revoke_api_key(get_store(request), key_id)


@router.get("/audit", summary="The audit log of mutating calls, newest first")
def read_audit(
    request: Request,
    limit: int = Query(100, ge=1, le=MAX_AUDIT_ENTRIES, description=f"At most {MAX_AUDIT_ENTRIES}"),
) -> list[AuditOut]:
    flush_refusals(request.app)  # counted anonymous refusals become rows before they are read
    return [
        AuditOut(
            at_utc=e.at_utc,
            actor=e.actor,
            role=e.role,
            method=e.method,
            path=e.path,
            status_code=e.status_code,
            detail=e.detail,
        )
        for e in get_store(request).list_audit(limit=limit)
    ]
