"""A `FeederModel` as plain JSON data and back, with a content hash.

Why: an imported OpenDSS feeder keeps its own three-phase model (line-code matrices, regulators,
connections, loads by phase) in the grid's metadata, so ``model=three_phase`` solves the file's circuit
later without the file; the hash names exactly which model a result came from and catches a stored model
that was altered. Round trip is exact (floats as JSON numbers, matrices as nested lists).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from typing import Any

import numpy as np

from fluxops.core.errors import InvalidInputError
from fluxops.network.threephase.model import (
    Capacitor,
    FeederModel,
    Line,
    LineCode,
    Load,
    Regulator,
    Source,
    Transformer,
    Winding,
)

FORMAT = 1


def _code(c: LineCode) -> dict[str, Any]:
    return {
        "name": c.name,
        "r": c.r_ohm_per_unit.tolist(),
        "x": c.x_ohm_per_unit.tolist(),
        "c": c.c_nf_per_unit.tolist(),
        "units": c.units,
    }


def model_to_dict(m: FeederModel) -> dict[str, Any]:
    """JSON-ready form; line codes stored once and referenced by name from the lines."""
    codes: dict[str, dict[str, Any]] = {}
    lines = []
    for ln in m.lines:
        codes.setdefault(ln.linecode.name, _code(ln.linecode))
        d = {f.name: getattr(ln, f.name) for f in fields(ln) if f.name != "linecode"}
        lines.append(
            {**d, "nodes1": list(ln.nodes1), "nodes2": list(ln.nodes2), "linecode": ln.linecode.name}
        )
    return {
        "format": FORMAT,
        "name": m.name,
        "source": asdict(m.source),
        "linecodes": codes,
        "lines": lines,
        "transformers": [asdict(t) for t in m.transformers],
        "loads": [asdict(x) for x in m.loads],
        "capacitors": [asdict(x) for x in m.capacitors],
        "regulators": [asdict(x) for x in m.regulators],
        "base_kv_ln": dict(m.base_kv_ln),
        "frequency_hz": m.frequency_hz,
    }


def model_hash(d: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a `model_to_dict` result."""
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _t(v: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in v)


def model_from_dict(d: dict[str, Any]) -> FeederModel:
    """Inverse of `model_to_dict`; a malformed or other-format document is an `InvalidInputError`."""
    if d.get("format") != FORMAT:
        raise InvalidInputError(f"stored three-phase model has format {d.get('format')!r}, expected {FORMAT}")
    try:
        codes = {
            k: LineCode(
                c["name"],
                np.asarray(c["r"], np.float64),
                np.asarray(c["x"], np.float64),
                np.asarray(c["c"], np.float64),
                c["units"],
            )
            for k, c in d["linecodes"].items()
        }
        lines = tuple(
            Line(
                **{
                    **x,
                    "nodes1": _t(x["nodes1"]),
                    "nodes2": _t(x["nodes2"]),
                    "linecode": codes[x["linecode"]],
                }
            )
            for x in d["lines"]
        )
        xfs = tuple(
            Transformer(
                **{
                    **t,
                    "windings": tuple(Winding(**{**w, "nodes": _t(w["nodes"])}) for w in t["windings"]),
                }
            )
            for t in d["transformers"]
        )
        s = d["source"]
        return FeederModel(
            name=d["name"],
            source=Source(**{**s, "nodes": _t(s["nodes"])}),
            lines=lines,
            transformers=xfs,
            loads=tuple(Load(**{**x, "nodes": _t(x["nodes"])}) for x in d["loads"]),
            capacitors=tuple(
                Capacitor(**{**x, "nodes1": _t(x["nodes1"]), "nodes2": _t(x["nodes2"])})
                for x in d["capacitors"]
            ),
            regulators=tuple(Regulator(**x) for x in d["regulators"]),
            base_kv_ln={str(k): float(v) for k, v in d["base_kv_ln"].items()},
            frequency_hz=float(d["frequency_hz"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"stored three-phase model is malformed: {exc}") from exc
