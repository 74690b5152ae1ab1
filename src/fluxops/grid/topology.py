"""`GridTopology`: the configuration's tree of a grid, for tracing and downstream totals.

Why precomputed arrays: the API answers "path to the substation" and "what is downstream" for any
asset, and the outage side needs "lowest common protective device" over sets of meters. One
unweighted shortest-path pass (scipy, from a virtual root joined to every source bus section) gives
a parent bus, parent edge and depth per bus; downstream totals and the nearest upstream protective
device then follow by one vectorized step per tree level (tens of levels, not per element).
Configuration: line segments plus devices whose ``state`` is closed — the recorded state, which equals
``normal_state`` for a grid as generated or imported, and the operated state for the live configuration
the API serves (`fluxops.ops.switching.apply_switch_states`), so a trace follows the switching.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from fluxops.core.errors import NotFoundError
from fluxops.grid.models import ID_COLUMNS, PROTECTIVE_DEVICE_TYPES, Grid

_FI = npt.NDArray[np.int64]
TOTAL_COLUMNS: tuple[str, ...] = (
    "transformers",
    "meters",
    "customers",
    "critical_customers",
    "connected_kva",
    "peak_kw",
    "peak_kva",
)


@dataclass(frozen=True)
class GridTopology:
    """Tree arrays over ``grid.buses`` (positions = row order) and ``edges`` (segments, then devices)."""

    grid: Grid
    bus_index: pd.Index
    edges: pd.DataFrame  # edge_id, kind (segment|device), device_type, from_pos, to_pos, closed
    edge_index: pd.Index
    parent_bus: _FI  # -1 for sources and unreached buses
    parent_edge: _FI  # edge position of the edge from the parent, -1 if none
    depth: _FI  # -1 when no source reaches the bus
    source_bus: _FI  # the source bus section each bus is fed from, -1 if none
    protective: _FI  # edge position of the nearest upstream protective device, -1 if none
    bus_totals: pd.DataFrame  # downstream (inclusive) totals per bus, TOTAL_COLUMNS, indexed by bus_id
    transformer_totals: pd.DataFrame  # per distribution transformer, TOTAL_COLUMNS

    @classmethod
    def build(cls, grid: Grid) -> GridTopology:
        bus_index = pd.Index(grid.buses.bus_id.to_numpy(dtype=object))
        n = len(bus_index)
        seg, dev = grid.line_segments, grid.devices
        edges = pd.DataFrame(
            {
                "edge_id": np.concatenate(
                    [seg.segment_id.to_numpy(dtype=object), dev.device_id.to_numpy(dtype=object)]
                ),
                "kind": np.array(["segment"] * len(seg) + ["device"] * len(dev), dtype=object),
                "device_type": np.concatenate(
                    [np.full(len(seg), None, dtype=object), dev.device_type.to_numpy(dtype=object)]
                ),
                "from_pos": bus_index.get_indexer(
                    pd.Index(pd.concat([seg.from_bus_id, dev.from_bus_id], ignore_index=True))
                ),
                "to_pos": bus_index.get_indexer(
                    pd.Index(pd.concat([seg.to_bus_id, dev.to_bus_id], ignore_index=True))
                ),
                "closed": np.concatenate([np.ones(len(seg), dtype=bool), (dev.state == "closed").to_numpy()]),
            }
        )
        use = (
            edges.closed & (edges.from_pos >= 0) & (edges.to_pos >= 0) & (edges.from_pos != edges.to_pos)
        ).to_numpy()
        a = edges.from_pos.to_numpy()[use]
        b = edges.to_pos.to_numpy()[use]
        stx_pos = bus_index.get_indexer(pd.Index(grid.substation_transformers.bus_id))
        sources = np.unique(stx_pos[stx_pos >= 0])
        root = n
        rows = np.concatenate([a, b, np.full(len(sources), root)])
        cols = np.concatenate([b, a, sources])
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
        dist, pred = dijkstra(graph, directed=True, indices=root, unweighted=True, return_predecessors=True)
        reached = np.isfinite(dist[:n])
        depth = np.where(reached, dist[:n] - 1, -1).astype(np.int64)
        parent = np.where(reached & (pred[:n] >= 0) & (pred[:n] < n), pred[:n], -1).astype(np.int64)
        # Parent edge: look up the (parent, child) pair among the usable edges.
        edge_pos = np.flatnonzero(use)
        key = np.minimum(a, b).astype(np.int64) * (n + 1) + np.maximum(a, b)
        order = np.argsort(key, kind="stable")
        has_parent = parent >= 0
        child = np.flatnonzero(has_parent)
        want = np.minimum(parent[child], child) * (n + 1) + np.maximum(parent[child], child)
        hit = order[np.searchsorted(key[order], want)]
        parent_edge = np.full(n, -1, dtype=np.int64)
        parent_edge[child] = edge_pos[hit]

        levels = levels_by_depth(depth)
        source_bus = np.where(depth == 0, np.arange(n), -1).astype(np.int64)
        is_prot = edges.device_type.isin(PROTECTIVE_DEVICE_TYPES).to_numpy()
        protective = np.full(n, -1, dtype=np.int64)
        for idx in levels[1:]:
            source_bus[idx] = source_bus[parent[idx]]
            pe = parent_edge[idx]
            protective[idx] = np.where(is_prot[pe], pe, protective[parent[idx]])

        xf_totals = _transformer_totals(grid)
        own = np.zeros((n, len(TOTAL_COLUMNS)))
        xf_bus = bus_index.get_indexer(pd.Index(grid.transformers.bus_id))
        ok = xf_bus >= 0
        np.add.at(own, xf_bus[ok], xf_totals.to_numpy()[ok])
        for idx in reversed(levels[1:]):
            np.add.at(own, parent[idx], own[idx])
        bus_totals = pd.DataFrame(own, index=bus_index, columns=list(TOTAL_COLUMNS))
        return cls(
            grid=grid,
            bus_index=bus_index,
            edges=edges,
            edge_index=pd.Index(edges.edge_id.to_numpy(dtype=object)),
            parent_bus=parent,
            parent_edge=parent_edge,
            depth=depth,
            source_bus=source_bus,
            protective=protective,
            bus_totals=bus_totals,
            transformer_totals=xf_totals,
        )

    # --- anchors ------------------------------------------------------------------------------

    @cached_property
    def _bus_pos(self) -> dict[object, int]:
        """Bus id -> position. Dicts, not ``Index.get_indexer(pd.Index([id]))``: one lookup per call in
        the asset detail route cost ~50 µs each in pandas, ~15 of them per request (issue 8 §5)."""
        return _positions(self.bus_index)

    @cached_property
    def _edge_pos(self) -> dict[object, int]:
        return _positions(self.edge_index)

    def _bus(self, bus_id: object) -> int:
        return self._bus_pos.get(bus_id, -1)

    def _edge(self, edge_id: object) -> int:
        return self._edge_pos.get(edge_id, -1)

    def _edge_anchor(self, e: int) -> int:
        """The bus below an edge in the tree (its downstream end); open/non-tree edges: from-bus."""
        f, t = int(self.edges.from_pos.to_numpy()[e]), int(self.edges.to_pos.to_numpy()[e])
        if t >= 0 and self.parent_edge[t] == e:
            return t
        if f >= 0 and self.parent_edge[f] == e:
            return f
        return f

    @cached_property
    def _ids(self) -> dict[str, pd.Index]:
        """Id -> row lookups per table (hash indexes built once, on first use)."""
        names = (
            "substations",
            "substation_transformers",
            "feeders",
            "poles",
            "transformers",
            "meters",
            "customers",
        )
        return {n: pd.Index(self.grid.table(n)[ID_COLUMNS[n]].to_numpy(dtype=object)) for n in names}

    @cached_property
    def _meter_xf_pos(self) -> _FI:
        """Row of each meter's transformer (-1 when dangling)."""
        return np.asarray(
            self._ids["transformers"].get_indexer(pd.Index(self.grid.meters.transformer_id)), dtype=np.int64
        )

    @cached_property
    def _row_pos(self) -> dict[str, dict[object, int]]:
        """Id -> row per table (as `_ids`, as dicts for single lookups)."""
        return {name: _positions(index) for name, index in self._ids.items()}

    @cached_property
    def _stx_by_bus(self) -> dict[object, int]:
        """Bus id -> first substation transformer row on it."""
        out: dict[object, int] = {}
        for i, bus in enumerate(self.grid.substation_transformers.bus_id.tolist()):
            out.setdefault(bus, i)
        return out

    def _row(self, table: str, asset_id: object) -> int:
        return self._row_pos[table].get(asset_id, -1)

    def _locate(self, asset_id: str) -> tuple[list[str], int]:
        """Ids leading to the first bus of the asset's path, and that bus (-1: the path ends here)."""
        g = self.grid
        e = self._edge(asset_id)
        if e >= 0:
            anchor = self._edge_anchor(int(e))
            through_self = anchor >= 0 and self.parent_edge[anchor] == e
            return ([] if through_self else [asset_id]), anchor
        b = self._bus(asset_id)
        if b >= 0:
            return [asset_id], int(b)
        if (r := self._row("transformers", asset_id)) >= 0:
            return [asset_id], self._bus(g.transformers.bus_id.iat[r])
        if (r := self._row("meters", asset_id)) >= 0:
            head, bus = self._locate(str(g.meters.transformer_id.iat[r]))
            return [asset_id, *head], bus
        if (r := self._row("customers", asset_id)) >= 0:
            head, bus = self._locate(str(g.customers.meter_id.iat[r]))
            return [asset_id, *head], bus
        if (r := self._row("poles", asset_id)) >= 0:
            seg = g.poles.segment_id.iat[r]
            if isinstance(seg, str):
                head, bus = self._locate(seg)
                return [asset_id, *head], bus
            return [asset_id], self._bus(g.poles.bus_id.iat[r])
        if (r := self._row("feeders", asset_id)) >= 0:
            return [asset_id], self._bus(g.feeders.head_bus_id.iat[r])
        if (r := self._row("substation_transformers", asset_id)) >= 0:
            return [asset_id, str(g.substation_transformers.substation_id.iat[r])], -1
        if self._row("substations", asset_id) >= 0:
            return [asset_id], -1
        raise NotFoundError(f"no asset with id {asset_id!r}", details={"asset_id": asset_id})

    # --- queries ------------------------------------------------------------------------------

    def path_to_substation(self, asset_id: str) -> list[str]:
        """Element ids from the asset up to its substation (segments and devices passed, then the
        power transformer feeding the bus section, then the substation)."""
        path, bus = self._locate(asset_id)
        if bus < 0:
            return path
        edge_ids = self.edges.edge_id.to_numpy()
        while self.parent_edge[bus] >= 0:
            path.append(str(edge_ids[self.parent_edge[bus]]))
            bus = int(self.parent_bus[bus])
        if self.depth[bus] == 0:
            stx = self.grid.substation_transformers
            r = self._stx_by_bus.get(self.bus_index[bus], -1)
            if r >= 0:
                path += [str(stx.transformer_id.iat[r]), str(stx.substation_id.iat[r])]
        return path

    def downstream(self, asset_id: str) -> dict[str, float]:
        """Downstream totals (TOTAL_COLUMNS) for any asset id."""
        g = self.grid
        if self._row("substations", asset_id) >= 0:
            stx = g.substation_transformers
            pos = self.bus_index.get_indexer(pd.Index(stx.bus_id[stx.substation_id == asset_id]))
            return _as_dict(self.bus_totals.iloc[pos[pos >= 0]].sum())
        if (r := self._row("substation_transformers", asset_id)) >= 0:
            return _as_dict(self.bus_totals.iloc[self._bus(g.substation_transformers.bus_id.iat[r])])
        if (r := self._row("transformers", asset_id)) >= 0:
            return _as_dict(self.transformer_totals.iloc[r])
        m = self._row("meters", asset_id)
        c = self._row("customers", asset_id)
        if m >= 0 or c >= 0:
            cu = g.customers
            if m >= 0:
                c = self._row("customers", g.meters.customer_id.iat[m])
            rows = cu.iloc[[c]] if c >= 0 else cu.iloc[[]]
            return {
                "transformers": 0.0,
                "meters": 1.0,
                "customers": float(len(rows)),
                "critical_customers": float(rows.is_critical.sum()),
                "connected_kva": 0.0,
                "peak_kw": float(rows.peak_kw.sum()),
                "peak_kva": float((rows.peak_kw / rows.power_factor).sum()),
            }
        e = self._edge(asset_id)
        if e >= 0 and not bool(self.edges.closed.iat[e]):
            return dict.fromkeys(TOTAL_COLUMNS, 0.0)  # an open device carries nothing
        _, bus = self._locate(asset_id)
        if bus < 0:
            return dict.fromkeys(TOTAL_COLUMNS, 0.0)
        return _as_dict(self.bus_totals.iloc[bus])

    def edge_totals(self) -> pd.DataFrame:
        """Downstream totals of every segment and device (vectorized), indexed by edge id."""
        n_e = len(self.edges)
        child = np.full(n_e, -1, dtype=np.int64)
        has = self.parent_edge >= 0
        child[self.parent_edge[has]] = np.flatnonzero(has)
        vals = np.where((child >= 0)[:, None], self.bus_totals.to_numpy()[np.maximum(child, 0)], 0.0)
        return pd.DataFrame(vals, index=self.edge_index, columns=list(TOTAL_COLUMNS))

    @cached_property
    def protective_ancestors(self) -> pd.Series:
        """Bus id -> id of the nearest upstream protective device (breaker, recloser, sectionalizer,
        fuse) in the configuration; None for source bus sections and unreached buses."""
        ids = self.edges.edge_id.to_numpy(dtype=object)
        values = np.full(len(self.protective), None, dtype=object)
        has = self.protective >= 0
        values[has] = ids[self.protective[has]]
        return pd.Series(values, index=self.bus_index, dtype=object, name="protective_device_id")

    def protective_device_of(self, asset_id: str) -> str | None:
        """The nearest protective device upstream of an asset (its own id if it is one)."""
        _, bus = self._locate(asset_id)
        e = self._edge(asset_id)
        if e >= 0 and self.edges.device_type.iat[e] in PROTECTIVE_DEVICE_TYPES:
            return asset_id
        if bus < 0 or self.protective[bus] < 0:
            return None
        return str(self.edges.edge_id.iat[int(self.protective[bus])])

    def meter_buses(self, meter_ids: Iterable[str]) -> _FI:
        """Bus position of each meter (via its transformer); unknown meters raise NotFoundError."""
        ids = pd.Index(list(meter_ids))
        rows = self._ids["meters"].get_indexer(ids)
        if (rows < 0).any():
            missing = [str(i) for i in ids[rows < 0][:100]]
            raise NotFoundError(f"unknown meter ids: {missing[:10]}", details={"ids": missing})
        xf = self._meter_xf_pos[rows]
        xf_bus = self.bus_index.get_indexer(
            pd.Index(self.grid.transformers.bus_id.to_numpy(dtype=object)[np.maximum(xf, 0)])
        )
        return np.asarray(np.where(xf >= 0, xf_bus, -1), dtype=np.int64)

    def lowest_common_protective_device(self, meter_ids: Iterable[str]) -> str | None:
        """The deepest protective device upstream of every given meter (None if they share none)."""
        buses = self.meter_buses(meter_ids)
        if len(buses) == 0 or (buses < 0).any():
            return None
        devices = np.unique(self.protective[buses])
        if (devices < 0).any():
            return None
        edge_from = self.edges.from_pos.to_numpy()
        counts: Counter[int] = Counter()
        depth_of: dict[int, int] = {}
        for d in devices.tolist():  # unique devices only; each chain is a handful of devices long
            chain, cur = [], int(d)
            while cur >= 0:
                chain.append(cur)
                up = int(edge_from[cur])
                cur = int(self.protective[up]) if up >= 0 else -1
            for i, c in enumerate(chain):
                counts[c] += 1
                depth_of[c] = len(chain) - i
        common = [c for c, k in counts.items() if k == len(devices)]
        if not common:
            return None
        return str(self.edges.edge_id.iat[max(common, key=lambda c: depth_of[c])])


def _as_dict(row: pd.Series | pd.DataFrame) -> dict[str, float]:
    if isinstance(row, pd.DataFrame):
        row = row.iloc[0]
    return {str(k): float(v) for k, v in row.to_dict().items()}


def levels_by_depth(depth: _FI) -> list[_FI]:
    """Bus positions grouped by depth 0..max (reached buses only)."""
    reached = np.flatnonzero(depth >= 0)
    if len(reached) == 0:
        return []
    order = reached[np.argsort(depth[reached], kind="stable")]
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    return [order[bounds[d] : bounds[d + 1]] for d in range(int(depth.max()) + 1)]


def _transformer_totals(grid: Grid) -> pd.DataFrame:
    """Per distribution transformer: itself, its meters, customers, critical customers, kVA, peak kW/kVA."""
    xf = grid.transformers
    cu = grid.meters[["meter_id", "transformer_id"]].merge(
        grid.customers[["meter_id", "is_critical", "peak_kw", "power_factor"]], on="meter_id", how="left"
    )
    cu["peak_kva"] = cu.peak_kw / cu.power_factor
    agg = cu.groupby("transformer_id").agg(
        meters=("meter_id", "size"),
        customers=("is_critical", "count"),
        critical_customers=("is_critical", "sum"),
        peak_kw=("peak_kw", "sum"),
        peak_kva=("peak_kva", "sum"),
    )
    out = pd.DataFrame(index=pd.Index(xf.transformer_id.to_numpy(dtype=object), name="transformer_id"))
    out["transformers"] = 1.0
    out = out.join(agg.astype(float)).fillna(0.0)
    out["connected_kva"] = xf.rating_kva.to_numpy()
    return out.loc[:, list(TOTAL_COLUMNS)]


def bus_levels(topo: GridTopology) -> list[_FI]:
    """Bus positions of a topology grouped by depth from the sources (index 0: the sources)."""
    return levels_by_depth(topo.depth)


def _positions(index: pd.Index) -> dict[object, int]:
    """Value -> position of its first occurrence (as ``get_indexer`` finds a unique index's)."""
    out: dict[object, int] = {}
    for i, key in enumerate(index.tolist()):
        out.setdefault(key, i)
    return out
