"""`generate_grid`: a whole synthetic utility from (preset | params, seed).

Order: substation sites from the density field -> per substation, feeders (loop over feeders;
everything inside a feeder is vectorized) -> power transformers sized on the feeders' peak ->
global concatenation, ties, poles, ids -> the model's tables. Deterministic: every substation and
feeder draws from its own generator seeded by (seed, substation, feeder), so changing one feeder's
draws never shifts another's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.grid.generator import catalog as cat
from fluxops.grid.generator.assemble import (
    PHASE_NAMES,
    Nodes,
    concat_nodes,
    feeder_devices_table,
    segments_table,
    substation_tables,
)
from fluxops.grid.generator.feeder import SEG, FeederArrays, build_feeder
from fluxops.grid.generator.geography import place_substations
from fluxops.grid.generator.naming import ids, substation_names
from fluxops.grid.generator.params import PRESETS, GeneratorParams
from fluxops.grid.generator.poles import poles_table
from fluxops.grid.generator.premises import account_numbers, customer_names, premise_addresses
from fluxops.grid.generator.substation import TransformerPlan, feeder_specs, plan_transformers
from fluxops.grid.generator.ties import Ties, find_ties
from fluxops.grid.models import (
    CRITICAL_TYPES,
    CUSTOMER_CLASSES,
    PHASE_MASK,
    PHASES,
    Grid,
    GridMeta,
    grid_from_tables,
)

_FI = npt.NDArray[np.int64]
_OBJ = npt.NDArray[np.object_]


def resolve_params(preset: str, params: GeneratorParams | None) -> GeneratorParams:
    """The preset's params (or the given ones), validated; unknown preset -> InvalidInputError('preset')."""
    if params is None:
        if preset not in PRESETS:
            raise InvalidInputError(
                f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}", field="preset"
            )
        params = PRESETS[preset]
    return params.validated()


def generate_grid(
    preset: str = "demo",
    seed: int = 42,
    params: GeneratorParams | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Grid:
    """A realistic, validated-by-construction synthetic utility (see docs/grid-generator.md).

    ``progress(done, total)`` (optional) is called after each substation's feeders are laid out, for
    progress bars on the large presets; it does not change the result."""
    p = resolve_params(preset, params)
    if seed < 0:
        raise InvalidInputError("seed must be >= 0", field="seed")
    rng = np.random.default_rng([seed, 0])
    sites = place_substations(p, rng)
    n_sub = len(sites.lon)
    feeders: list[FeederArrays] = []
    plans: list[TransformerPlan] = []
    f_sub: list[int] = []
    f_no: list[int] = []
    for s in range(n_sub):
        specs = feeder_specs(
            p,
            np.random.default_rng([seed, 1, s]),
            lon=float(sites.lon[s]),
            lat=float(sites.lat[s]),
            customers=int(sites.customers[s]),
            density_pct=float(sites.density_pct[s]),
            era=int(sites.era_year[s]),
        )
        built = [
            build_feeder(
                np.random.default_rng([seed, 2, s, j]), spec, p, np.random.default_rng([seed, 3, s, j])
            )
            for j, spec in enumerate(specs)
        ]
        plans.append(plan_transformers([f.peak_kva for f in built]))
        feeders.extend(built)
        f_sub.extend([s] * len(built))
        f_no.extend(range(1, len(built) + 1))
        if progress is not None:
            progress(s + 1, n_sub)
    fsub = np.asarray(f_sub, dtype=np.int64)
    fno = np.asarray(f_no, dtype=np.int64)
    sub_ids = ids("SUB", (np.arange(1, n_sub + 1), 4))
    feeder_ids = ids("FDR", (fsub + 1, 4), (fno, 2))
    sub_of_feeder = sub_ids[fsub]
    section = np.concatenate([np.asarray(pl.section_of_feeder, dtype=np.int64) for pl in plans])
    section_bus = ids("BUS", (fsub + 1, 4)) + "-S" + (section + 1).astype(str).astype(object)

    nodes, node_off = concat_nodes(feeders, fsub + 1, fno)
    leaves = np.concatenate([f.leaves + node_off[i] for i, f in enumerate(feeders)])
    ties = find_ties(
        leaves,
        nodes.lon,
        nodes.lat,
        nodes.feeder,
        max_m=p.max_tie_m,
        per_feeder=p.ties_per_feeder,
        fallback_m=p.max_tie_line_m,
    )
    nodes, tie_nodes = _with_tie_nodes(nodes, ties, fsub + 1, fno)

    segments = segments_table(nodes, feeder_ids, sub_of_feeder, fsub + 1, fno)
    sec_buses, stx, bus_ties = substation_tables(plans, sub_ids, sites.lon, sites.lat, sites.era_year, rng)
    devices = pd.concat(
        [
            feeder_devices_table(nodes, feeder_ids, sub_of_feeder, section_bus, fsub + 1, fno),
            _tie_devices(nodes, ties, tie_nodes, feeder_ids, sub_of_feeder),
            bus_ties,
        ],
        ignore_index=True,
    )
    junction = pd.DataFrame(
        {
            "bus_id": nodes.bus_id,
            "bus_type": "junction",
            "feeder_id": feeder_ids[nodes.feeder],
            "substation_id": sub_of_feeder[nodes.feeder],
            "lon": nodes.lon,
            "lat": nodes.lat,
            "v_nom_kv": cat.V_PRIMARY_KV,
        }
    )
    xf, meters, customers = _service_tables(
        feeders, nodes, node_off, fsub, fno, feeder_ids, sub_of_feeder, seed=seed
    )
    names = substation_names(n_sub, rng)
    tables = {
        "substations": pd.DataFrame(
            {
                "substation_id": sub_ids,
                "name": names,
                "lon": sites.lon,
                "lat": sites.lat,
                "v_hv_kv": cat.V_TRANSMISSION_KV,
                "v_lv_kv": cat.V_PRIMARY_KV,
            }
        ),
        "substation_transformers": stx,
        "feeders": pd.DataFrame(
            {
                "feeder_id": feeder_ids,
                "name": [f"{names[s]} {n:02d}" for s, n in zip(f_sub, f_no, strict=True)],
                "substation_id": sub_of_feeder,
                "transformer_id": ids("STX", (fsub + 1, 4)) + "-" + (section + 1).astype(str).astype(object),
                "head_bus_id": nodes.bus_id[node_off],
                "head_device_id": ids("BRK", (fsub + 1, 4), (fno, 2)),
                "v_nom_kv": cat.V_PRIMARY_KV,
            }
        ),
        "buses": pd.concat([sec_buses, junction], ignore_index=True),
        "line_segments": segments,
        "devices": devices,
        "poles": poles_table(segments, p.pole_span_m, rng),
        "transformers": xf,
        "meters": meters,
        "customers": customers,
    }
    meta_params = {**dataclasses.asdict(p), "seed": seed, "preset": preset if params is None else "custom"}
    return grid_from_tables(
        GridMeta(name=str(meta_params["preset"]), source="synthetic", params=meta_params), tables
    )


def _with_tie_nodes(nodes: Nodes, ties: Ties, sub_no: _FI, feeder_no: _FI) -> tuple[Nodes, _FI]:
    """Append one tie bus per tie to feeder A (fed by a short segment from A's end bus)."""
    n = len(ties.a_node)
    feeder = nodes.feeder[ties.a_node]
    count = np.bincount(nodes.feeder, minlength=int(nodes.feeder.max()) + 1)  # nodes per feeder
    rank = pd.Series(feeder).groupby(feeder).cumcount().to_numpy()
    local = count[feeder] + rank + 1
    start = len(nodes.lon)
    new = np.arange(start, start + n)
    merged = Nodes(
        lon=np.concatenate([nodes.lon, ties.lon]),
        lat=np.concatenate([nodes.lat, ties.lat]),
        parent=np.concatenate([nodes.parent, ties.a_node]),
        kind=np.concatenate([nodes.kind, np.full(n, SEG, dtype=np.int8)]),
        conductor=np.concatenate([nodes.conductor, nodes.conductor[ties.a_node]]),
        rating_a=np.concatenate([nodes.rating_a, np.full(n, np.nan)]),
        year=np.concatenate([nodes.year, nodes.year[ties.a_node]]),
        feeder=np.concatenate([nodes.feeder, feeder]),
        local=np.concatenate([nodes.local, local]),
        bus_id=np.concatenate(
            [nodes.bus_id, ids("BUS", (sub_no[feeder], 4), (feeder_no[feeder], 2), (local, 5))]
        ),
        via_lon=np.concatenate([nodes.via_lon, ties.via_lon]),
        via_lat=np.concatenate([nodes.via_lat, ties.via_lat]),
        phases=np.concatenate([nodes.phases, nodes.phases[ties.a_node]]),
    )
    return merged, new


def _tie_devices(
    nodes: Nodes, ties: Ties, tie_nodes: _FI, feeder_ids: _OBJ, sub_of_feeder: _OBJ
) -> pd.DataFrame:
    fa = nodes.feeder[ties.a_node]
    fb = nodes.feeder[ties.b_node]
    return pd.DataFrame(
        {
            "device_id": ids("TIE", (np.arange(1, len(fa) + 1), 5)),
            "device_type": "tie_switch",
            "feeder_id": feeder_ids[fa],
            "substation_id": sub_of_feeder[fa],
            "from_bus_id": nodes.bus_id[tie_nodes],
            "to_bus_id": nodes.bus_id[ties.b_node],
            "lon": ties.lon,
            "lat": ties.lat,
            "normal_state": "open",
            "state": "open",
            "rating_a": 600.0,
            "tie_feeder_id": feeder_ids[fb],
            "phases": _tie_phases(nodes.phases[ties.a_node], nodes.phases[ties.b_node]),
        }
    )


def _tie_phases(a: npt.NDArray[np.int8], b: npt.NDArray[np.int8]) -> _OBJ:
    """The phases both ends of a tie share; none shared (laterals of different phases): A's own, so the
    tie is recorded as built and, closed, carries nothing across (the three-phase model sees no path)."""
    mask = np.asarray([PHASE_MASK[p] for p in PHASES], dtype=np.int64)
    code_of_mask = np.full(8, -1, dtype=np.int64)
    code_of_mask[mask] = np.arange(len(PHASES))
    both = mask[a] & mask[b]
    out: _OBJ = PHASE_NAMES[np.where(both > 0, code_of_mask[both], a)]
    return out


def _service_tables(
    feeders: list[FeederArrays],
    nodes: Nodes,
    node_off: _FI,
    fsub: _FI,
    fno: _FI,
    feeder_ids: _OBJ,
    sub_of_feeder: _OBJ,
    *,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Distribution transformers, meters and customers of every feeder."""
    n_xf = np.array([len(f.xf_node) for f in feeders], dtype=np.int64)
    xf_off = np.concatenate([[0], np.cumsum(n_xf)[:-1]]).astype(np.int64)
    xf_f = np.repeat(np.arange(len(feeders)), n_xf)
    xf_local = np.arange(int(n_xf.sum())) - xf_off[xf_f] + 1
    xf_node = np.concatenate([f.xf_node for f in feeders]) + node_off[xf_f]
    xf_ids = ids("XFMR", (fsub[xf_f] + 1, 4), (fno[xf_f], 2), (xf_local, 4))
    xf = pd.DataFrame(
        {
            "transformer_id": xf_ids,
            "feeder_id": feeder_ids[xf_f],
            "substation_id": sub_of_feeder[xf_f],
            "bus_id": nodes.bus_id[xf_node],
            "lon": np.concatenate([f.xf_lon for f in feeders]),
            "lat": np.concatenate([f.xf_lat for f in feeders]),
            "rating_kva": np.concatenate([f.xf_kva for f in feeders]),
            "phase": np.asarray(PHASES, dtype=object)[
                np.concatenate([f.xf_phase for f in feeders]).astype(np.int64)
            ],
            "mounting": np.where(np.concatenate([f.xf_pad for f in feeders]), "pad", "pole"),
            "z_pct": np.concatenate([f.xf_z_pct for f in feeders]),
            "install_year": np.concatenate([f.xf_year for f in feeders]).astype(np.int32),
        }
    )
    n_cu = np.array([len(f.cu_xf) for f in feeders], dtype=np.int64)
    cu_f = np.repeat(np.arange(len(feeders)), n_cu)
    cu_xf = np.concatenate([f.cu_xf for f in feeders]) + xf_off[cu_f]
    n = int(n_cu.sum())
    seq = np.arange(1, n + 1)
    meter_ids = ids("MTR", (seq, 8))
    cust_ids = ids("CUST", (seq, 8))
    klass = np.concatenate([f.cu_class for f in feeders]).astype(np.int64)
    crit = np.concatenate([f.cu_critical for f in feeders]).astype(np.int64)
    cu_lon = np.concatenate([f.cu_lon for f in feeders])
    cu_lat = np.concatenate([f.cu_lat for f in feeders])
    address, zip_code = premise_addresses(
        cu_f,
        np.concatenate([f.cu_street for f in feeders]).astype(np.int64),
        np.concatenate([f.cu_house_no for f in feeders]).astype(np.int64),
        cu_lon,
        cu_lat,
        klass,
    )

    def cat_(field: str) -> npt.NDArray[np.generic]:
        return np.concatenate([np.asarray(getattr(f.loads, field)) for f in feeders])

    meters = pd.DataFrame(
        {
            "meter_id": meter_ids,
            "customer_id": cust_ids,
            "transformer_id": xf_ids[cu_xf],
            "feeder_id": feeder_ids[cu_f],
            "substation_id": sub_of_feeder[cu_f],
            "lon": cu_lon,
            "lat": cu_lat,
            # 120/240 V split phase homes, 208Y/120 V commercial, 480Y/277 V industrial.
            "service_v": np.array([240.0, 208.0, 480.0])[klass],
            "address": address,
            "zip_code": zip_code,
            "phases": xf["phase"].to_numpy(dtype=object)[cu_xf],  # a meter is on its transformer's phases
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "meter_id": meter_ids,
            "name": customer_names(klass, crit, seed),
            "account_id": account_numbers(seq),
            "customer_class": np.asarray(CUSTOMER_CLASSES, dtype=object)[klass],
            "is_critical": crit >= 0,
            "critical_type": np.where(
                crit >= 0,
                np.asarray(CRITICAL_TYPES, dtype=object)[np.maximum(crit, 0)],
                np.full(n, None, dtype=object),
            ),
            "peak_kw": cat_("peak_kw"),
            "power_factor": cat_("power_factor"),
            "annual_kwh": cat_("annual_kwh"),
            "has_pv": cat_("has_pv"),
            "pv_kw": cat_("pv_kw"),
        }
    )
    return xf, meters, customers
