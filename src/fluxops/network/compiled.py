"""Compile a `Grid` (string ids, pandas tables) into integer-indexed NumPy arrays.

Why: every kernel (energization, power flow, centrality, the cascade engine) runs thousands of times per
request on the same topology. Resolving string ids, joining meters to transformers to buses and turning
per-km impedances into ohms is done once here, vectorized (pandas index joins, ``np.bincount``), so the
kernels only touch contiguous arrays.

Graph convention:
* nodes are ``grid.buses`` in table order (``bus_ids[i]``, ``bus_index[id] == i``);
* edges are ``grid.line_segments`` (``edge_kind == 0``) followed by ``grid.devices`` (``edge_kind == 1``);
  ``edge_ids[e]`` is the segment or device id; devices have zero impedance;
* sources are ``grid.substation_transformers``: each feeds its LV bus section ``source_bus[s]`` through its
  own series impedance (``source_r_ohm``/``source_x_ohm``, referred to the LV bus's nominal voltage),
  behind an ideal voltage (the transmission system);
* distribution transformers, meters and customers are leaves: they appear as per-bus counts and loads
  plus per-transformer arrays, so "customers out" is a sum over de-energized buses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import InvalidInputError, TopologyError
from fluxops.grid.models import PROTECTIVE_DEVICE_TYPES, Grid

EDGE_LINE = 0
EDGE_DEVICE = 1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class BusLoads:
    """Per-bus demand that replaces the design peak in `compile_grid`.

    Buses not listed carry no load. ``p_kw``/``q_kvar`` are three-phase totals; negative ``p_kw`` is net
    generation (e.g. PV exceeding demand).
    """

    bus_ids: npt.ArrayLike
    p_kw: npt.ArrayLike
    q_kvar: npt.ArrayLike


@dataclass(frozen=True, eq=False)
class CompiledGrid:
    """A grid as arrays. Frozen; kernels never write into these arrays (they are marked read-only).

    Bus arrays (length ``n_bus``): ``bus_ids``, ``bus_index`` (id → position), ``v_base_kv`` (nominal
    line-to-line kV), ``bus_p_kw``/``bus_q_kvar`` (load at design peak: sum of customers' ``peak_kw`` via
    meter → transformer → bus, ``q = p·tan(acos(pf))``; or `BusLoads`), ``bus_pv_kw`` (installed PV, not
    subtracted from the load), ``bus_transformer_count``, ``bus_meter_count``, ``bus_customer_count``,
    ``bus_critical_count``, ``bus_kva`` (installed distribution transformer kVA), ``bus_substation``
    (index into ``substation_ids``), ``bus_is_substation`` (substation bus sections).

    Edge arrays (length ``n_edge``): ``edge_ids``, ``edge_kind`` (0 line segment, 1 device), ``from_bus``,
    ``to_bus`` (bus positions; "from" is upstream in the normal configuration), ``r_ohm``, ``x_ohm``
    (devices 0), ``ampacity_a`` (lines: conductor ampacity; devices: continuous ``rating_a``),
    ``device_type`` (``''`` for lines), ``normally_closed`` (lines always True), ``closed_state`` (the
    devices' last known ``state``; lines True), ``is_protective`` (breaker/recloser/sectionalizer/fuse),
    ``edge_c_nf`` (line capacitance in nF: 0, or for imported grids pandapower's ``c_nf_per_km·length``
    from ``grid.meta.params['line_c_nf']``), ``f_hz`` (``params['f_hz']``, default 60 Hz — the
    synthetic utility is North American; imported European grids carry 50 Hz).

    Source arrays (length ``n_source``): ``source_ids`` (substation transformer ids), ``source_bus``,
    ``source_rating_mva``, ``source_r_ohm``/``source_x_ohm`` (series impedance on the LV side),
    ``source_substation``, ``source_v_pu`` (voltage behind the transformer: 1.0, or for imported grids
    ``grid.meta.params['source_v_pu'][transformer_id]`` = ext_grid setpoint / tap ratio).

    Leaves: ``xfmr_ids``/``xfmr_bus``/``xfmr_rating_kva``/``xfmr_customer_count``/``xfmr_critical_count``/
    ``xfmr_p_kw``; ``meter_ids``/``meter_xfmr``/``meter_critical``.

    Lookups for `fluxops.network.elements.resolve_element`: ``substation_ids``, ``feeder_ids``,
    ``feeder_head_edge`` (the head breaker's edge), ``pole_ids``/``pole_edge``/``pole_bus`` (−1 when absent).
    """

    bus_ids: StrArray
    bus_index: dict[str, int]
    v_base_kv: FloatArray
    bus_p_kw: FloatArray
    bus_q_kvar: FloatArray
    bus_pv_kw: FloatArray
    bus_transformer_count: IntArray
    bus_meter_count: IntArray
    bus_customer_count: IntArray
    bus_critical_count: IntArray
    bus_kva: FloatArray
    bus_substation: IntArray
    bus_is_substation: BoolArray

    edge_ids: StrArray
    edge_kind: npt.NDArray[np.int8]
    from_bus: IntArray
    to_bus: IntArray
    r_ohm: FloatArray
    x_ohm: FloatArray
    ampacity_a: FloatArray
    device_type: StrArray
    normally_closed: BoolArray
    closed_state: BoolArray
    is_protective: BoolArray
    edge_c_nf: FloatArray
    f_hz: float

    source_ids: StrArray
    source_bus: IntArray
    source_rating_mva: FloatArray
    source_r_ohm: FloatArray
    source_x_ohm: FloatArray
    source_substation: IntArray
    source_v_pu: FloatArray

    xfmr_ids: StrArray
    xfmr_bus: IntArray
    xfmr_rating_kva: FloatArray
    xfmr_customer_count: IntArray
    xfmr_critical_count: IntArray
    xfmr_p_kw: FloatArray
    meter_ids: StrArray
    meter_xfmr: IntArray
    meter_critical: BoolArray

    substation_ids: StrArray
    feeder_ids: StrArray
    feeder_head_edge: IntArray
    pole_ids: StrArray
    pole_edge: IntArray
    pole_bus: IntArray

    # the source case of an imported grid (None for generated grids): per-bus net demand with static
    # generators, storage, shunts and iron losses netted (kW / kvar), their generation part, and the
    # switch states as in the source (see `as_imported_case`)
    as_imported_p_kw: FloatArray | None = None
    as_imported_q_kvar: FloatArray | None = None
    as_imported_gen_kw: FloatArray | None = None
    as_imported_closed: BoolArray | None = None

    @property
    def has_as_imported(self) -> bool:
        return self.as_imported_p_kw is not None

    @property
    def n_bus(self) -> int:
        return len(self.bus_ids)

    @property
    def n_edge(self) -> int:
        return len(self.edge_ids)

    @property
    def n_source(self) -> int:
        return len(self.source_ids)

    @property
    def total_customers(self) -> int:
        return int(self.bus_customer_count.sum())


def _positions(
    index: pd.Index, ids: pd.Series, *, table: str, column: str, allow_null: bool = False
) -> IntArray:
    """Positions of ``ids`` in ``index``; unknown ids raise `TopologyError` naming table and column."""
    pos = _lookup(index, ids)
    bad = pos < 0
    if allow_null:
        bad &= ids.notna().to_numpy()
    if bad.any():
        raise TopologyError(
            f"{table}.{column} references unknown ids",
            ids=[str(v) for v in ids.to_numpy()[bad]],
            details={"table": table, "field": column},
        )
    return pos


def _lookup(index: pd.Index, ids: pd.Series) -> IntArray:
    """Positions of ``ids`` in ``index`` (−1 for unknown or null ids)."""
    return np.asarray(index.get_indexer(pd.Index(ids.astype(object))), dtype=np.int64)


def _readonly(*arrays: npt.NDArray[np.generic]) -> None:
    for a in arrays:
        a.flags.writeable = False


def _unique_index(df: pd.DataFrame, column: str, table: str) -> pd.Index:
    index: pd.Index = pd.Index(df[column].astype(object).to_numpy())
    if not index.is_unique:
        dup = index[index.duplicated()].unique()
        raise TopologyError(f"{table}.{column} has duplicate ids", ids=[str(v) for v in dup])
    return index


def _q_from_pf(p_kw: FloatArray, pf: FloatArray) -> FloatArray:
    pf_clipped = np.clip(np.nan_to_num(pf, nan=1.0), 1e-6, 1.0)
    return np.asarray(p_kw * np.tan(np.arccos(pf_clipped)), dtype=np.float64)


def _source_voltages(grid: Grid, ids: list[str]) -> FloatArray:
    given = grid.meta.params.get("source_v_pu") or {}
    v = np.array([float(given.get(i, 1.0)) for i in ids], dtype=np.float64)
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise InvalidInputError("grid.meta.params.source_v_pu must be positive", field="source_v_pu")
    return v


def _line_capacitance(grid: Grid, edge_index: pd.Index) -> FloatArray:
    given = grid.meta.params.get("line_c_nf") or {}
    c = np.zeros(len(edge_index), dtype=np.float64)
    if given:
        pos = np.asarray(edge_index.get_indexer(pd.Index(list(given))), dtype=np.int64)
        vals = np.asarray(list(given.values()), dtype=np.float64)
        ok = pos >= 0
        c[pos[ok]] = vals[ok]
    return c


def _per_bus(values: dict[str, float], bus_idx: pd.Index) -> FloatArray:
    ids = pd.Series(list(values), dtype=object)
    pos = _lookup(bus_idx, ids)
    v = np.fromiter(values.values(), np.float64, len(values))
    keep = pos >= 0  # a sub-grid (local context) holds only some of the buses
    return np.bincount(pos[keep], weights=v[keep], minlength=len(bus_idx)).astype(np.float64)


def _as_imported(
    grid: Grid, bus_idx: pd.Index, edge_index: pd.Index, normally_closed: BoolArray
) -> tuple[FloatArray | None, FloatArray | None, FloatArray | None, BoolArray | None]:
    """The import's operating point (``grid.meta.params['operating_point']``) as per-bus arrays."""
    op = grid.meta.params.get("operating_point")
    if not isinstance(op, dict):
        return None, None, None, None
    closed = normally_closed.copy()
    again = _lookup(edge_index, pd.Series(list(op.get("closed_devices") or []), dtype=object))
    closed[again[again >= 0]] = True
    return (
        _per_bus(op.get("bus_p_kw") or {}, bus_idx),
        _per_bus(op.get("bus_q_kvar") or {}, bus_idx),
        _per_bus(op.get("bus_gen_kw") or {}, bus_idx),
        closed,
    )


def as_imported_case(cg: CompiledGrid) -> tuple[FloatArray, FloatArray, BoolArray] | None:
    """(p_kw, q_kvar, closed) reproducing an imported grid's source case — loads and static generators at
    their source values, storage and shunts as given, switches as in the source (a coupler the asset
    model runs open is closed again) — or None for a grid that was not imported. Pass them to
    `fluxops.network.powerflow.run_powerflow` (``p_kw=, q_kvar=, closed=``)."""
    if cg.as_imported_p_kw is None or cg.as_imported_q_kvar is None or cg.as_imported_closed is None:
        return None
    return cg.as_imported_p_kw, cg.as_imported_q_kvar, cg.as_imported_closed


def compile_grid(grid: Grid, *, loads: BusLoads | None = None) -> CompiledGrid:
    """Compile ``grid`` to a `CompiledGrid` in linear time (pandas joins, ``np.bincount``; no row loops).

    ``loads`` replaces the design-peak bus loads (unlisted buses get 0). Raises `TopologyError` when a
    reference (bus, transformer, meter, segment) points at an unknown id, and `InvalidInputError`
    (``field='loads.bus_ids'``) for unknown buses in ``loads``.
    """
    buses = grid.buses
    bus_idx = _unique_index(buses, "bus_id", "buses")
    n_bus = len(bus_idx)
    sub_idx = _unique_index(grid.substations, "substation_id", "substations")

    # --- edges: line segments then devices -------------------------------------------------------
    seg, dev = grid.line_segments, grid.devices
    seg_idx = _unique_index(seg, "segment_id", "line_segments")
    _unique_index(dev, "device_id", "devices")
    n_seg, n_dev = len(seg), len(dev)
    from_bus = np.concatenate(
        [
            _positions(bus_idx, seg["from_bus_id"], table="line_segments", column="from_bus_id"),
            _positions(bus_idx, dev["from_bus_id"], table="devices", column="from_bus_id"),
        ]
    )
    to_bus = np.concatenate(
        [
            _positions(bus_idx, seg["to_bus_id"], table="line_segments", column="to_bus_id"),
            _positions(bus_idx, dev["to_bus_id"], table="devices", column="to_bus_id"),
        ]
    )
    length = seg["length_km"].to_numpy(np.float64)
    r_ohm = np.concatenate([seg["r_ohm_per_km"].to_numpy(np.float64) * length, np.zeros(n_dev)])
    x_ohm = np.concatenate([seg["x_ohm_per_km"].to_numpy(np.float64) * length, np.zeros(n_dev)])
    ampacity = np.concatenate([seg["ampacity_a"].to_numpy(np.float64), dev["rating_a"].to_numpy(np.float64)])
    dtype_arr = np.concatenate(
        [np.full(n_seg, "", dtype=object), dev["device_type"].astype(object).to_numpy()]
    ).astype(object)
    normally_closed = np.concatenate([np.ones(n_seg, bool), (dev["normal_state"] == "closed").to_numpy(bool)])
    closed_state = np.concatenate([np.ones(n_seg, bool), (dev["state"] == "closed").to_numpy(bool)])
    is_protective = np.concatenate(
        [np.zeros(n_seg, bool), dev["device_type"].isin(PROTECTIVE_DEVICE_TYPES).to_numpy(bool)]
    )
    edge_ids = np.concatenate(
        [seg["segment_id"].astype(object).to_numpy(), dev["device_id"].astype(object).to_numpy()]
    ).astype(object)
    edge_index = pd.Index(edge_ids)
    if not edge_index.is_unique:
        dup = edge_index[edge_index.duplicated()].unique()
        raise TopologyError("a segment and a device share an id", ids=[str(v) for v in dup])
    edge_kind = np.concatenate([np.zeros(n_seg, np.int8), np.ones(n_dev, np.int8)])

    # --- per-bus attributes -----------------------------------------------------------------------
    v_base = buses["v_nom_kv"].to_numpy(np.float64).copy()
    if (v_base <= 0).any() or not np.isfinite(v_base).all():
        raise TopologyError(
            "buses.v_nom_kv must be positive", ids=list(buses["bus_id"][~(v_base > 0)].astype(str))
        )
    bus_sub = _positions(sub_idx, buses["substation_id"], table="buses", column="substation_id")
    bus_is_sub = (buses["bus_type"] == "substation").to_numpy(bool)

    # --- sources: substation transformers -------------------------------------------------------
    st = grid.substation_transformers
    source_bus = _positions(bus_idx, st["bus_id"], table="substation_transformers", column="bus_id")
    rating = st["rating_mva"].to_numpy(np.float64)
    z_ohm = (
        st["z_pct"].to_numpy(np.float64) / 100.0 * v_base[source_bus] ** 2 / np.where(rating > 0, rating, 1.0)
    )
    xr = st["x_r_ratio"].to_numpy(np.float64)
    src_r = z_ohm / np.sqrt(1.0 + xr**2)
    src_x = src_r * xr
    source_sub = _positions(
        sub_idx, st["substation_id"], table="substation_transformers", column="substation_id"
    )

    # --- leaves: transformers, meters, customers -----------------------------------------------
    xf = grid.transformers
    xf_idx = _unique_index(xf, "transformer_id", "transformers")
    xfmr_bus = _positions(bus_idx, xf["bus_id"], table="transformers", column="bus_id")
    me = grid.meters
    meter_xfmr = _positions(xf_idx, me["transformer_id"], table="meters", column="transformer_id")
    cu = grid.customers
    cust_by_meter = cu.set_index(cu["meter_id"].astype(object))
    cust_by_meter = cust_by_meter[~cust_by_meter.index.duplicated()]
    cu_rows = cust_by_meter.reindex(me["meter_id"].astype(object).to_numpy())
    has_customer = cu_rows["customer_id"].notna().to_numpy(bool)
    meter_critical = cu_rows["is_critical"].fillna(False).to_numpy(bool)
    peak_kw = cu_rows["peak_kw"].fillna(0.0).to_numpy(np.float64)
    pf = cu_rows["power_factor"].fillna(1.0).to_numpy(np.float64)
    pv_kw = np.where(cu_rows["has_pv"].fillna(False).to_numpy(bool), cu_rows["pv_kw"].fillna(0.0), 0.0)

    n_xf = len(xf)
    xfmr_customers = np.bincount(meter_xfmr, weights=has_customer, minlength=n_xf).astype(np.int64)
    xfmr_critical = np.bincount(meter_xfmr, weights=meter_critical, minlength=n_xf).astype(np.int64)
    xfmr_p = np.bincount(meter_xfmr, weights=peak_kw, minlength=n_xf)
    xfmr_q = np.bincount(meter_xfmr, weights=_q_from_pf(peak_kw, pf), minlength=n_xf)
    xfmr_pv = np.bincount(meter_xfmr, weights=pv_kw, minlength=n_xf)
    meter_bus = xfmr_bus[meter_xfmr]

    if loads is None:
        bus_p = np.bincount(xfmr_bus, weights=xfmr_p, minlength=n_bus)
        bus_q = np.bincount(xfmr_bus, weights=xfmr_q, minlength=n_bus)
    else:
        load_ids = pd.Series(np.asarray(loads.bus_ids, dtype=object))
        pos = _lookup(bus_idx, load_ids)
        if (pos < 0).any():
            raise InvalidInputError(
                "loads name unknown buses",
                field="loads.bus_ids",
                details={"ids": [str(v) for v in load_ids[pos < 0][:100]]},
            )
        bus_p = np.bincount(pos, weights=np.asarray(loads.p_kw, np.float64), minlength=n_bus)
        bus_q = np.bincount(pos, weights=np.asarray(loads.q_kvar, np.float64), minlength=n_bus)

    # --- lookups ---------------------------------------------------------------------------------
    fd = grid.feeders
    feeder_head = _positions(edge_index, fd["head_device_id"], table="feeders", column="head_device_id")
    po = grid.poles
    pole_edge = _lookup(seg_idx, po["segment_id"])
    pole_bus = _lookup(bus_idx, po["bus_id"])

    imported = _as_imported(grid, bus_idx, edge_index, normally_closed)
    cg = CompiledGrid(
        bus_ids=bus_idx.to_numpy(dtype=object),
        bus_index={str(b): i for i, b in enumerate(bus_idx)},
        v_base_kv=v_base,
        bus_p_kw=np.asarray(bus_p, np.float64),
        bus_q_kvar=np.asarray(bus_q, np.float64),
        bus_pv_kw=np.bincount(xfmr_bus, weights=xfmr_pv, minlength=n_bus).astype(np.float64),
        bus_transformer_count=np.bincount(xfmr_bus, minlength=n_bus).astype(np.int64),
        bus_meter_count=np.bincount(meter_bus, minlength=n_bus).astype(np.int64),
        bus_customer_count=np.bincount(xfmr_bus, weights=xfmr_customers, minlength=n_bus).astype(np.int64),
        bus_critical_count=np.bincount(xfmr_bus, weights=xfmr_critical, minlength=n_bus).astype(np.int64),
        bus_kva=np.bincount(xfmr_bus, weights=xf["rating_kva"].to_numpy(np.float64), minlength=n_bus).astype(
            np.float64
        ),
        bus_substation=bus_sub,
        bus_is_substation=bus_is_sub,
        edge_ids=edge_ids,
        edge_kind=edge_kind,
        from_bus=from_bus,
        to_bus=to_bus,
        r_ohm=r_ohm,
        x_ohm=x_ohm,
        ampacity_a=ampacity,
        device_type=dtype_arr,
        normally_closed=normally_closed,
        closed_state=closed_state,
        is_protective=is_protective,
        edge_c_nf=_line_capacitance(grid, edge_index),
        f_hz=float(grid.meta.params.get("f_hz") or 60.0),
        source_ids=st["transformer_id"].astype(object).to_numpy(),
        source_bus=source_bus,
        source_rating_mva=rating,
        source_r_ohm=src_r,
        source_x_ohm=src_x,
        source_substation=source_sub,
        source_v_pu=_source_voltages(grid, st["transformer_id"].astype(str).tolist()),
        xfmr_ids=xf_idx.to_numpy(dtype=object),
        xfmr_bus=xfmr_bus,
        xfmr_rating_kva=xf["rating_kva"].to_numpy(np.float64),
        xfmr_customer_count=xfmr_customers,
        xfmr_critical_count=xfmr_critical,
        xfmr_p_kw=xfmr_p.astype(np.float64),
        meter_ids=me["meter_id"].astype(object).to_numpy(),
        meter_xfmr=meter_xfmr,
        meter_critical=meter_critical,
        substation_ids=sub_idx.to_numpy(dtype=object),
        feeder_ids=fd["feeder_id"].astype(object).to_numpy(),
        feeder_head_edge=feeder_head,
        pole_ids=po["pole_id"].astype(object).to_numpy(),
        pole_edge=pole_edge,
        pole_bus=pole_bus,
        as_imported_p_kw=imported[0],
        as_imported_q_kvar=imported[1],
        as_imported_gen_kw=imported[2],
        as_imported_closed=imported[3],
    )
    for value in vars(cg).values():
        if isinstance(value, np.ndarray):
            _readonly(value)
    return cg
