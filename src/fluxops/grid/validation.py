"""`validate_grid`: structural rules every grid (generated or imported) must satisfy.

Why one pass that collects everything: an importer or a hand-edited grid usually breaks several
rules at once; reporting them all, each with the offending ids, saves round trips. Rules:
ids unique (per table and across addressable assets), enumerations respected, ratings positive,
every foreign key resolves (and the denormalized feeder/substation columns agree), in the normal
configuration (normally open ties and bus ties open) the network is a forest with exactly one source
per component, every feeder's buses hang off its own source, and every meter traces to exactly one
substation - its own. An imported grid may say it is meshed in normal operation
(``meta.params['meshed_normal']``: cycles accepted) and name buses no source reaches
(``meta.params['deenergized_buses']``: not orphans); ``devices.rating_a`` may be null (unknown).
Vectorized: pandas joins and scipy.sparse.csgraph, no per-element Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from fluxops.core.errors import TopologyError
from fluxops.grid.models import (
    BUS_TYPES,
    CONSTRUCTION_TYPES,
    CRITICAL_TYPES,
    CUSTOMER_CLASSES,
    DEVICE_TYPES,
    ID_COLUMNS,
    PHASES,
    SWITCH_STATES,
    Grid,
)

_SAMPLE = 20  # ids shown per problem in the message
_NORMALLY_OPEN = ("tie_switch", "bus_tie")
_MOUNTINGS = ("pole", "pad")
_NULLABLE_RATINGS = {("devices", "rating_a")}
_ASSET_TABLES = (
    "substations",
    "substation_transformers",
    "feeders",
    "line_segments",
    "devices",
    "poles",
    "transformers",
    "meters",
)


class _Problems:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, rule: str, ids: pd.Series | npt.NDArray[np.object_] | list[str]) -> None:
        values = [str(v) for v in pd.unique(pd.Series(ids, dtype=object))]
        if values:
            self.found.setdefault(rule, []).extend(values)

    def raise_if_any(self) -> None:
        if not self.found:
            return
        lines = [
            f"{rule}: {', '.join(ids[:_SAMPLE])}{' ...' if len(ids) > _SAMPLE else ''} ({len(ids)})"
            for rule, ids in self.found.items()
        ]
        all_ids = list(dict.fromkeys(i for ids in self.found.values() for i in ids))
        raise TopologyError(
            "grid failed validation: " + "; ".join(lines),
            ids=all_ids,
            details={"problems": {rule: ids[:100] for rule, ids in self.found.items()}},
        )


def validate_grid(grid: Grid) -> None:
    """Raise `TopologyError` listing every offending id; return None when the grid is sound."""
    problems = _Problems()
    _check_ids(grid, problems)
    _check_enums(grid, problems)
    _check_ratings(grid, problems)
    _check_references(grid, problems)
    _check_topology(grid, problems)
    problems.raise_if_any()


def _check_ids(grid: Grid, problems: _Problems) -> None:
    for name, col in ID_COLUMNS.items():
        ids = grid.table(name)[col]
        missing = np.flatnonzero((ids.isna() | (ids.astype(str) == "")).to_numpy())
        problems.add(f"{name}: missing id", [f"{name}[row {i}]" for i in missing])
        problems.add(f"{name}: duplicate id", ids[ids.duplicated()])
    every = pd.concat(
        [grid.table(t)[ID_COLUMNS[t]].drop_duplicates() for t in _ASSET_TABLES], ignore_index=True
    )
    problems.add("id used by two asset types", every[every.duplicated()])


def _bad_enum(
    df: pd.DataFrame, id_col: str, col: str, allowed: tuple[str, ...], nullable: bool = False
) -> pd.Series:
    values = df[col]
    bad = ~values.isin(allowed)
    if nullable:
        bad &= values.notna()
    return df.loc[bad, id_col]


def _check_enums(grid: Grid, problems: _Problems) -> None:
    checks = [
        ("buses", "bus_type", BUS_TYPES, False),
        ("line_segments", "construction", CONSTRUCTION_TYPES, False),
        ("devices", "device_type", DEVICE_TYPES, False),
        ("devices", "normal_state", SWITCH_STATES, False),
        ("devices", "state", SWITCH_STATES, False),
        ("transformers", "phase", PHASES, False),
        ("line_segments", "phases", PHASES, True),
        ("devices", "phases", PHASES, True),
        ("meters", "phases", PHASES, True),
        ("transformers", "mounting", _MOUNTINGS, False),
        ("customers", "customer_class", CUSTOMER_CLASSES, False),
        ("customers", "critical_type", CRITICAL_TYPES, True),
    ]
    for table, col, allowed, nullable in checks:
        df = grid.table(table)
        problems.add(
            f"{table}.{col} not in {list(allowed)}", _bad_enum(df, ID_COLUMNS[table], col, allowed, nullable)
        )
    cu = grid.customers
    problems.add(
        "customers: critical flag and critical_type disagree",
        cu.customer_id[cu.is_critical != cu.critical_type.notna()],
    )
    dev = grid.devices
    problems.add(
        "devices: ties and bus ties must be normally open",
        dev.device_id[dev.device_type.isin(_NORMALLY_OPEN) & (dev.normal_state != "open")],
    )
    problems.add(
        "devices: tie switch without tie_feeder_id",
        dev.device_id[(dev.device_type == "tie_switch") & dev.tie_feeder_id.isna()],
    )


def _check_ratings(grid: Grid, problems: _Problems) -> None:
    positive = [
        ("substations", "v_hv_kv"),
        ("substations", "v_lv_kv"),
        ("substation_transformers", "rating_mva"),
        ("substation_transformers", "z_pct"),
        ("feeders", "v_nom_kv"),
        ("buses", "v_nom_kv"),
        ("line_segments", "length_km"),
        ("line_segments", "r_ohm_per_km"),
        ("line_segments", "ampacity_a"),
        ("devices", "rating_a"),
        ("poles", "height_m"),
        ("transformers", "rating_kva"),
        ("transformers", "z_pct"),
        ("meters", "service_v"),
        ("customers", "power_factor"),
    ]
    for table, col in positive:
        df = grid.table(table)
        values = df[col]
        bad = ~(values > 0)
        if (table, col) in _NULLABLE_RATINGS:
            bad &= values.notna()  # unknown in the source: null, never invented
        problems.add(f"{table}.{col} must be positive", df.loc[bad, ID_COLUMNS[table]])
    non_negative = [
        ("line_segments", "x_ohm_per_km"),
        ("customers", "peak_kw"),
        ("customers", "annual_kwh"),
        ("customers", "pv_kw"),
    ]
    for table, col in non_negative:
        df = grid.table(table)
        problems.add(f"{table}.{col} must be >= 0", df.loc[~(df[col] >= 0), ID_COLUMNS[table]])
    cu = grid.customers
    problems.add("customers.power_factor must be <= 1", cu.customer_id[cu.power_factor > 1])


def _check_references(grid: Grid, problems: _Problems) -> None:
    ids = {name: grid.table(name)[col] for name, col in ID_COLUMNS.items()}
    refs: list[tuple[str, str, str, bool]] = [
        ("substation_transformers", "substation_id", "substations", False),
        ("substation_transformers", "bus_id", "buses", False),
        ("feeders", "substation_id", "substations", False),
        ("feeders", "transformer_id", "substation_transformers", False),
        ("feeders", "head_bus_id", "buses", False),
        ("feeders", "head_device_id", "devices", False),
        ("buses", "feeder_id", "feeders", True),
        ("buses", "substation_id", "substations", False),
        ("line_segments", "feeder_id", "feeders", False),
        ("line_segments", "substation_id", "substations", False),
        ("line_segments", "from_bus_id", "buses", False),
        ("line_segments", "to_bus_id", "buses", False),
        ("devices", "feeder_id", "feeders", True),
        ("devices", "substation_id", "substations", False),
        ("devices", "from_bus_id", "buses", False),
        ("devices", "to_bus_id", "buses", False),
        ("devices", "tie_feeder_id", "feeders", True),
        ("poles", "feeder_id", "feeders", False),
        ("poles", "substation_id", "substations", False),
        ("poles", "bus_id", "buses", True),
        ("poles", "segment_id", "line_segments", True),
        ("transformers", "feeder_id", "feeders", False),
        ("transformers", "substation_id", "substations", False),
        ("transformers", "bus_id", "buses", False),
        ("meters", "customer_id", "customers", False),
        ("meters", "transformer_id", "transformers", False),
        ("meters", "feeder_id", "feeders", False),
        ("meters", "substation_id", "substations", False),
        ("customers", "meter_id", "meters", False),
    ]
    for table, col, target, nullable in refs:
        df = grid.table(table)
        values = df[col]
        bad = ~values.isin(ids[target])
        if nullable:
            bad &= values.notna()
        problems.add(f"{table}.{col} references a missing {target} row", df.loc[bad, ID_COLUMNS[table]])
    # Meter <-> customer is one-to-one and consistent.
    m = grid.meters.merge(
        grid.customers[["customer_id", "meter_id"]], on="customer_id", how="left", suffixes=("", "_c")
    )
    problems.add(
        "meters: customer points to another meter",
        m.meter_id[m.meter_id_c.notna() & (m.meter_id_c != m.meter_id)],
    )
    problems.add(
        "meters: customer served by two meters",
        grid.meters.meter_id[grid.meters.customer_id.duplicated(keep=False)],
    )
    # Denormalized feeder/substation columns agree with the feeder's substation.
    fsub = grid.feeders.set_index("feeder_id")["substation_id"]
    for table in ("line_segments", "poles", "transformers", "meters"):
        df = grid.table(table)
        expected = df.feeder_id.map(fsub)
        problems.add(
            f"{table}: substation_id differs from its feeder's",
            df.loc[expected.notna() & (expected != df.substation_id), ID_COLUMNS[table]],
        )
    xf_feeder = grid.transformers.set_index("transformer_id")["feeder_id"]
    mt = grid.meters
    expected = mt.transformer_id.map(xf_feeder)
    problems.add(
        "meters: feeder_id differs from its transformer's",
        mt.meter_id[expected.notna() & (expected != mt.feeder_id)],
    )


def _check_topology(grid: Grid, problems: _Problems) -> None:
    buses = grid.buses.bus_id.to_numpy()
    n = len(buses)
    if n == 0:
        return
    pos = pd.Series(np.arange(n), index=pd.Index(buses))
    seg, dev = grid.line_segments, grid.devices
    closed = dev[dev.normal_state == "closed"]
    edge_ids = np.concatenate(
        [seg.segment_id.to_numpy(dtype=object), closed.device_id.to_numpy(dtype=object)]
    )
    a = pd.concat([seg.from_bus_id, closed.from_bus_id], ignore_index=True).map(pos)
    b = pd.concat([seg.to_bus_id, closed.to_bus_id], ignore_index=True).map(pos)
    known = (a.notna() & b.notna()).to_numpy()
    a_i = a.to_numpy()[known].astype(np.int64)
    b_i = b.to_numpy()[known].astype(np.int64)
    e_ids = edge_ids[known]
    problems.add("edge from a bus to itself", e_ids[a_i == b_i])
    # an imported network meshed in normal operation says so (meta.params['meshed_normal']): its loops
    # are data, solved by the power flow, not a defect; buses behind open switches are de-energized
    meshed = bool(grid.meta.params.get("meshed_normal"))
    dead_ok = pd.Index([str(x) for x in grid.meta.params.get("deenergized_buses") or []])
    lo, hi = np.minimum(a_i, b_i), np.maximum(a_i, b_i)
    key = lo * n + hi
    dup = pd.Series(key).duplicated().to_numpy()
    keep = ~dup & (a_i != b_i)
    graph = coo_matrix((np.ones(int(keep.sum())), (lo[keep], hi[keep])), shape=(n, n)).tocsr()
    if not meshed:
        problems.add("parallel edge (cycle)", e_ids[dup])
        tree = minimum_spanning_tree(graph).tocoo()
        tree_key = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(tree.row, tree.col)
        problems.add(
            "edge closes a cycle in the normal configuration", e_ids[keep][~np.isin(key[keep], tree_key)]
        )

    n_comp, label = connected_components(graph, directed=False)
    stx = grid.substation_transformers
    fed = stx[stx.bus_id.isin(pos.index)]
    src = fed.bus_id.map(pos).to_numpy().astype(np.int64)
    src_per_comp = np.bincount(label[src], minlength=n_comp)
    if not meshed:
        problems.add(
            "two sources energize one island (bus sections tied)", fed.bus_id[src_per_comp[label[src]] > 1]
        )
    comp_sub = np.full(n_comp, None, dtype=object)
    comp_sub[label[src]] = fed.substation_id.to_numpy(dtype=object)
    dead = src_per_comp[label] == 0
    problems.add("bus not connected to any source (orphan)", buses[dead & ~np.isin(buses, dead_ok)])
    # Every feeder bus hangs off its own feeder's source (the bus section behind its head breaker).
    fdr = grid.feeders
    head_dev = dev.set_index("device_id").reindex(fdr.head_device_id)
    src_bus = head_dev.from_bus_id.map(pos)
    comp_of_feeder = pd.Series(
        np.where(src_bus.notna(), label[src_bus.fillna(0).astype(np.int64)], -1),
        index=fdr.feeder_id.to_numpy(),
    )
    fb = grid.buses[grid.buses.feeder_id.notna()]
    expect = fb.feeder_id.map(comp_of_feeder)
    got = label[fb.bus_id.map(pos).to_numpy().astype(np.int64)]
    problems.add(
        "feeder bus not fed from its feeder's source",
        fb.bus_id[expect.notna() & (expect.to_numpy() != got) & ~fb.bus_id.isin(dead_ok)],
    )
    # Meters: meter -> transformer -> bus -> island -> the one substation, which must be its own.
    xf_bus = grid.transformers.set_index("transformer_id")["bus_id"].map(pos)
    mbus = grid.meters.transformer_id.map(xf_bus)
    ok = mbus.notna().to_numpy()
    comp = label[mbus.fillna(0).to_numpy().astype(np.int64)]
    mt = grid.meters
    traced = pd.Series(comp_sub[comp], index=mt.index).where(ok)
    xf_bus_id = grid.transformers.set_index("transformer_id")["bus_id"]
    on_dead = grid.meters.transformer_id.map(xf_bus_id).isin(dead_ok)
    problems.add("meter not traced to a substation", mt.meter_id[traced.isna() & ~on_dead])
    problems.add(
        "meter traced to another substation", mt.meter_id[traced.notna() & (traced != mt.substation_id)]
    )
