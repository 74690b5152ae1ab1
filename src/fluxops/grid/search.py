"""`SearchIndex`: find premises, assets and streets by what an engineer has in hand.

A trouble call gives an address or a customer's name, a bill an account number, a field crew a meter,
transformer or pole number. One index answers all of them, ranked, with coordinates to fly to:

* **premises** (kind ``meter``): meter id, customer id, account number, street address with ZIP,
  customer name;
* **assets**: every other element of the asset index (substations and feeders by id and name,
  transformers, devices, poles, segments by id);
* **streets** (kind ``street``): each (street, ZIP) with premises on it, at the centre of its
  premises, with their bounding box and count.

Ranking: every query word must occur in the entry's text. Then exact match of a whole key (an id, an
account, an address) > a key starting with the query > a word of a key starting with it > a match
anywhere (several words: each starting a word of the entry, or not); ties go to substations and feeders,
then streets, premises and the other assets by type importance, then shorter labels.
Built once per grid (vectorized); a query scans one text column per kind, then scores the few
candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.grid.assets import asset_index
from fluxops.grid.models import Grid

SEARCH_KINDS: tuple[str, ...] = (
    "substation",
    "feeder",
    "street",
    "meter",
    "transformer",
    "breaker",
    "recloser",
    "sectionalizer",
    "fuse",
    "switch",
    "tie_switch",
    "bus_tie",
    "substation_transformer",
    "pole",
    "line_segment",
)
MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
MAX_HITS = 100
_SEP = "\x1f"
_SCORE_EXACT, _SCORE_PREFIX, _SCORE_WORD, _SCORE_ANY = 100, 80, 60, 40
_STREET_RE = r"^\d+ (?P<street>.+?)(?: (?:Ste|Unit) \d+)?$"


@dataclass(frozen=True)
class _Part:
    """One kind of entry: display columns and the lower-case keys searched."""

    frame: pd.DataFrame  # kind, id, label, detail, lon, lat, + extras
    keys: list[np.ndarray]  # lower-case key columns (object arrays), same length as frame
    haystack: pd.Series  # keys joined by _SEP, for the first scan


def _lower(values: Any) -> np.ndarray:
    return np.asarray(pd.Series(values, dtype=object).fillna("").astype(str).str.lower(), dtype=object)


def _part(frame: pd.DataFrame, keys: list[Any]) -> _Part:
    low = [_lower(k) for k in keys]
    hay = pd.Series(low[0], dtype=object)
    for k in low[1:]:
        hay = hay + _SEP + k
    return _Part(frame=frame.reset_index(drop=True), keys=low, haystack=hay)


def _premises(grid: Grid) -> _Part | None:
    m = grid.meters
    if m.empty:
        return None
    cust = grid.customers.set_index("customer_id").reindex(m.customer_id)
    address = m.address.fillna("").astype(str)
    zip_code = m.zip_code.fillna("").astype(str)
    full = (address + " " + zip_code).str.strip()
    name = cust["name"].fillna("").astype(str).to_numpy(dtype=object)
    account = cust["account_id"].to_numpy(dtype=object)
    label = np.where(full.to_numpy(dtype=object) != "", full.to_numpy(dtype=object), m.meter_id.to_numpy())
    frame = pd.DataFrame(
        {
            "kind": "meter",
            "id": m.meter_id.to_numpy(dtype=object),
            "label": label,
            "detail": (pd.Series(name) + " · " + m.meter_id.to_numpy(dtype=object))
            .str.strip(" ·")
            .to_numpy(),
            "lon": m.lon.to_numpy(),
            "lat": m.lat.to_numpy(),
            "feeder_id": m.feeder_id.to_numpy(dtype=object),
            "substation_id": m.substation_id.to_numpy(dtype=object),
            "transformer_id": m.transformer_id.to_numpy(dtype=object),
            "customer_id": m.customer_id.to_numpy(dtype=object),
            "customer_name": name,
            "account_id": account,
            "address": m.address.to_numpy(dtype=object),
            "zip_code": m.zip_code.to_numpy(dtype=object),
            "customer_class": cust["customer_class"].to_numpy(dtype=object),
        }
    )
    keys = [m.meter_id, m.customer_id, account, full, address, name]
    return _part(frame, keys)


def _streets(grid: Grid) -> _Part | None:
    m = grid.meters
    if m.empty or m.address.isna().all():
        return None
    street = m.address.astype("string").str.extract(_STREET_RE)["street"]
    df = pd.DataFrame(
        {"street": street, "zip_code": m.zip_code.astype("string"), "lon": m.lon, "lat": m.lat}
    ).dropna(subset=["street"])
    g = df.groupby(["street", "zip_code"], sort=True, dropna=False)
    agg = g.agg(
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        min_lon=("lon", "min"),
        min_lat=("lat", "min"),
        max_lon=("lon", "max"),
        max_lat=("lat", "max"),
        premises=("lon", "size"),
    ).reset_index()
    name = agg.street.astype(str).to_numpy(dtype=object)
    zips = agg.zip_code.fillna("").astype(str).to_numpy(dtype=object)
    label = np.where(zips != "", name + ", " + zips, name)
    frame = pd.DataFrame(
        {
            "kind": "street",
            "id": label,
            "label": label,
            "detail": agg.premises.astype(str).to_numpy(dtype=object) + " premises",
            "lon": agg.lon.to_numpy(),
            "lat": agg.lat.to_numpy(),
            "zip_code": zips,
            "premises": agg.premises.to_numpy(),
            "bbox": [
                [float(a), float(b), float(c), float(d)]
                for a, b, c, d in zip(agg.min_lon, agg.min_lat, agg.max_lon, agg.max_lat, strict=True)
            ],
        }
    )
    return _part(frame, [label, name])


def _assets(grid: Grid) -> _Part | None:
    idx = asset_index(grid)
    idx = idx[idx.asset_type != "meter"]
    if idx.empty:
        return None
    named = idx.asset_type.isin(["substation", "feeder"]).to_numpy()
    # a device's name carries its switch state, which the index (built once per stored grid) would
    # soon show stale: the state is on the asset itself
    name = idx.name.fillna("").str.replace(r" \((?:open|closed)\)", "", regex=True)
    frame = pd.DataFrame(
        {
            "kind": idx.asset_type.to_numpy(dtype=object),
            "id": idx.asset_id.to_numpy(dtype=object),
            "label": (idx.asset_id + " — " + name).str.rstrip(" —").to_numpy(dtype=object),
            "detail": name.to_numpy(dtype=object),
            "lon": idx.lon.to_numpy(),
            "lat": idx.lat.to_numpy(),
            "feeder_id": idx.feeder_id.to_numpy(dtype=object),
            "substation_id": idx.substation_id.to_numpy(dtype=object),
        }
    )
    # names are searched for substations and feeders only (a device's generated name is a description)
    names = np.where(named, name.to_numpy(dtype=object), "")
    return _part(frame, [idx.asset_id, names])


_KIND_RANK = {k: i for i, k in enumerate(SEARCH_KINDS)}


def normalize_query(q: str) -> str:
    text = " ".join(q.split()).lower()
    if len(text) < MIN_QUERY_CHARS:
        raise InvalidInputError(f"q must have at least {MIN_QUERY_CHARS} characters", field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"q must have at most {MAX_QUERY_CHARS} characters", field="q")
    return text


class SearchIndex:
    """Premises, assets and streets of one grid (see the module doc). Immutable after `build`."""

    def __init__(self, parts: list[_Part]) -> None:
        self._parts = parts

    @classmethod
    def build(cls, grid: Grid) -> SearchIndex:
        parts = [p for p in (_streets(grid), _premises(grid), _assets(grid)) if p is not None]
        return cls(parts)

    def search(
        self, q: str, *, kinds: tuple[str, ...] | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Ranked hits for ``q`` (every word must match), at most ``limit``; ``kinds`` filters."""
        text = normalize_query(q)
        words = text.split(" ")
        limit = max(1, min(limit, MAX_HITS))
        found: list[pd.DataFrame] = []
        for part in self._parts:
            mask = np.ones(len(part.frame), dtype=bool)
            if kinds is not None:
                mask &= part.frame.kind.isin(kinds).to_numpy()
            if not mask.any():
                continue
            for w in words:
                mask &= part.haystack.str.contains(w, regex=False).to_numpy()
            rows = np.flatnonzero(mask)
            if rows.size == 0:
                continue
            score = np.full(rows.size, _SCORE_ANY, dtype=np.int64)
            for key in part.keys:
                k = pd.Series(key[rows], dtype=object)
                s = np.where(
                    (k == text).to_numpy(),
                    _SCORE_EXACT,
                    np.where(
                        k.str.startswith(text).to_numpy(),
                        _SCORE_PREFIX,
                        np.where((" " + k).str.contains(" " + text, regex=False).to_numpy(), _SCORE_WORD, 0),
                    ),
                )
                score = np.maximum(score, s)
            if len(words) > 1:  # every word starting a word of the entry ranks above loose matches
                spaced = (" " + part.haystack.iloc[rows].str.replace(_SEP, " ", regex=False)).reset_index(
                    drop=True
                )
                at_start = np.ones(rows.size, dtype=bool)
                for w in words:
                    at_start &= spaced.str.contains(" " + w, regex=False).to_numpy()
                score = np.maximum(score, np.where(at_start, _SCORE_WORD, _SCORE_ANY))
            hits = part.frame.iloc[rows].copy()
            hits["score"] = score
            found.append(hits)
        if not found:
            return []
        allhits = pd.concat(found, ignore_index=True)
        allhits["_kind_rank"] = allhits.kind.map(_KIND_RANK).fillna(len(SEARCH_KINDS))
        allhits["_len"] = allhits.label.str.len()
        allhits = allhits.sort_values(
            ["score", "_kind_rank", "_len", "id"], ascending=[False, True, True, True], kind="stable"
        ).head(limit)
        out: list[dict[str, Any]] = []
        for row in allhits.drop(columns=["_kind_rank", "_len"]).to_dict(orient="records"):
            out.append({str(k): _plain(v) for k, v in row.items() if not _missing(v)})
        return out


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v
