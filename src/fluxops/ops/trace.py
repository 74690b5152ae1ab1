"""The protection tree an OMS traces on: meters → distribution transformer → devices → feeder breaker.

Why its own structure: outage prediction asks, thousands of times per storm, "which meters are under
this device?", "what is the lowest common protective device of these meters?" and "which device is the
nearest one above this meter?". Answering from the bus graph each time would be a graph walk per
question. Here the energized configuration (segments and *closed* devices, walked from the substation
buses) is compiled once into integer parent pointers over one node space

    nodes = [devices in the energized tree | distribution transformers | meters]

with depths and a DFS preorder, so a subtree is a contiguous slice and every question is a few NumPy
operations. Distribution transformers are prediction levels too: a pole-top transformer is protected
by its own fuse cutout (standard North American practice), which is why two dead meters on one
transformer predict the transformer, not the lateral fuse above it.

Pure: built from a `Grid`, never mutates it, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, depth_first_order

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import PROTECTIVE_DEVICE_TYPES, Grid

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NODE_DEVICE = 0
NODE_TRANSFORMER = 1
NODE_METER = 2


def _propagate_nearest(own: IntArray, parent: IntArray) -> IntArray:
    """For every node, the nearest ``own`` value at or above it (pointer jumping, O(n log depth))."""
    val = own.copy()
    anc = parent.copy()
    while True:
        need = (val < 0) & (anc >= 0)
        if not need.any():
            return val
        idx = np.flatnonzero(need)
        new_val = val.copy()
        new_anc = anc.copy()
        new_val[idx] = val[anc[idx]]
        new_anc[idx] = anc[anc[idx]]
        val, anc = new_val, new_anc


def _depths(parent: IntArray) -> IntArray:
    """Number of ancestors of every node (pointer jumping)."""
    depth = (parent >= 0).astype(np.int64)
    anc = parent.copy()
    while True:
        live = anc >= 0
        if not live.any():
            return depth
        idx = np.flatnonzero(live)
        new_depth = depth.copy()
        new_anc = anc.copy()
        new_depth[idx] = depth[idx] + depth[anc[idx]]
        new_anc[idx] = anc[anc[idx]]
        depth, anc = new_depth, new_anc


@dataclass(frozen=True)
class ProtectionTree:
    """Compiled parent pointers of the energized protection hierarchy (see module docstring)."""

    node_ids: npt.NDArray[np.object_]  # string id per node
    node_kind: npt.NDArray[np.int8]  # NODE_DEVICE | NODE_TRANSFORMER | NODE_METER
    node_type: npt.NDArray[np.object_]  # device_type, "transformer" or "meter"
    node_feeder: npt.NDArray[np.object_]
    node_substation: npt.NDArray[np.object_]
    node_lon: npt.NDArray[np.float64]
    node_lat: npt.NDArray[np.float64]
    parent: IntArray  # nearest device / transformer above (-1 at feeder heads)
    depth: IntArray
    is_prediction_level: BoolArray  # protective devices and transformers: where outages are predicted
    gate: IntArray  # per node: nearest device at or above (the switch/fuse whose closure energizes it)
    tin: IntArray  # position in DFS preorder
    size: IntArray  # subtree size in nodes (self included)
    preorder: IntArray
    meter_count: IntArray  # meters in each node's subtree
    n_devices: int
    n_transformers: int
    meter_ids: npt.NDArray[np.object_]
    meter_critical: BoolArray  # per meter (meter order), serves a critical customer
    bus_ids: npt.NDArray[np.object_]
    bus_gate: IntArray  # per bus: node of the nearest device at or above it (-1: substation side)
    id_index: pd.Index  # node ids, for vectorized lookups (get_indexer)
    _index: dict[str, int]

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def build(cls, grid: Grid) -> ProtectionTree:
        buses = grid.buses
        n_bus = len(buses)
        bus_pos = pd.Series(np.arange(n_bus, dtype=np.int64), index=buses["bus_id"].to_numpy())
        root = n_bus  # virtual source joined to every substation bus section
        seg = grid.line_segments
        dev = grid.devices.reset_index(drop=True)
        closed = dev["state"].to_numpy() == "closed"
        su = bus_pos.reindex(seg["from_bus_id"]).to_numpy()
        sv = bus_pos.reindex(seg["to_bus_id"]).to_numpy()
        du = bus_pos.reindex(dev["from_bus_id"]).to_numpy()
        dv = bus_pos.reindex(dev["to_bus_id"]).to_numpy()
        if np.isnan(su).any() or np.isnan(sv).any() or np.isnan(du).any() or np.isnan(dv).any():
            raise InvalidInputError("a segment or device references an unknown bus", field="bus_id")
        sub_bus = np.flatnonzero(buses["bus_type"].to_numpy() == "substation")
        # edge code: -1 for segments / root links, device position otherwise
        eu = np.concatenate([su, du[closed], np.full(len(sub_bus), root)]).astype(np.int64)
        ev = np.concatenate([sv, dv[closed], sub_bus]).astype(np.int64)
        code = np.concatenate(
            [np.full(len(seg), -1), np.flatnonzero(closed), np.full(len(sub_bus), -1)]
        ).astype(np.int64)
        graph = coo_matrix((np.ones(len(eu)), (eu, ev)), shape=(n_bus + 1, n_bus + 1)).tocsr()
        _, pred = breadth_first_order(graph, root, directed=False, return_predecessors=True)
        pred = pred.astype(np.int64)
        pred[pred < 0] = -1
        # which edge brought each bus into the tree: look (pred, bus) up among both orientations
        edges = pd.DataFrame(
            {"u": np.concatenate([eu, ev]), "v": np.concatenate([ev, eu]), "code": np.tile(code, 2)}
        )
        edges = edges.sort_values("code", ascending=False).drop_duplicates(["u", "v"])  # prefer devices
        bus_idx = np.arange(n_bus, dtype=np.int64)
        reached = pred[:n_bus] >= 0
        probe = pd.DataFrame({"u": pred[:n_bus][reached], "v": bus_idx[reached]})
        hit = probe.merge(edges, on=["u", "v"], how="left")
        own_dev = np.full(n_bus + 1, -1, dtype=np.int64)
        own_dev[bus_idx[reached]] = hit["code"].fillna(-1).to_numpy(dtype=np.int64)
        bus_parent = pred.copy()
        bus_parent[root] = -1
        nearest_dev = _propagate_nearest(own_dev, bus_parent)  # device position or -1

        # device nodes: devices that brought a bus into the tree (closed, energized)
        in_tree = np.unique(own_dev[own_dev >= 0])
        n_d = len(in_tree)
        dev_node = np.full(len(dev), -1, dtype=np.int64)
        dev_node[in_tree] = np.arange(n_d)
        down_bus = np.empty(n_d, dtype=np.int64)
        down_bus[dev_node[own_dev[bus_idx][own_dev[bus_idx] >= 0]]] = bus_idx[own_dev[bus_idx] >= 0]
        up_dev = nearest_dev[bus_parent[down_bus]]
        dev_parent = np.where(up_dev >= 0, dev_node[np.maximum(up_dev, 0)], -1)

        tr = grid.transformers
        n_t = len(tr)
        t_bus = bus_pos.reindex(tr["bus_id"]).to_numpy()
        if np.isnan(t_bus).any():
            raise InvalidInputError("a transformer references an unknown bus", field="bus_id")
        t_dev = nearest_dev[t_bus.astype(np.int64)]
        tr_parent = np.where(t_dev >= 0, dev_node[np.maximum(t_dev, 0)], -1)

        met = grid.meters
        n_m = len(met)
        t_pos = pd.Series(np.arange(n_t, dtype=np.int64), index=tr["transformer_id"].to_numpy())
        m_tr = t_pos.reindex(met["transformer_id"]).to_numpy()
        if np.isnan(m_tr).any():
            raise InvalidInputError("a meter references an unknown transformer", field="transformer_id")
        m_parent = n_d + m_tr.astype(np.int64)

        dev_rows = dev.iloc[in_tree]
        node_ids = np.concatenate(
            [dev_rows["device_id"].to_numpy(), tr["transformer_id"].to_numpy(), met["meter_id"].to_numpy()]
        ).astype(object)
        node_kind = np.concatenate(
            [np.full(n_d, NODE_DEVICE), np.full(n_t, NODE_TRANSFORMER), np.full(n_m, NODE_METER)]
        ).astype(np.int8)
        node_type = np.concatenate(
            [dev_rows["device_type"].to_numpy(), np.full(n_t, "transformer"), np.full(n_m, "meter")]
        ).astype(object)
        node_feeder = np.concatenate(
            [dev_rows["feeder_id"].to_numpy(), tr["feeder_id"].to_numpy(), met["feeder_id"].to_numpy()]
        ).astype(object)
        node_sub = np.concatenate(
            [
                dev_rows["substation_id"].to_numpy(),
                tr["substation_id"].to_numpy(),
                met["substation_id"].to_numpy(),
            ]
        ).astype(object)
        node_lon = np.concatenate(
            [dev_rows["lon"].to_numpy(float), tr["lon"].to_numpy(float), met["lon"].to_numpy(float)]
        )
        node_lat = np.concatenate(
            [dev_rows["lat"].to_numpy(float), tr["lat"].to_numpy(float), met["lat"].to_numpy(float)]
        )
        parent = np.concatenate([dev_parent, tr_parent, m_parent]).astype(np.int64)
        n = len(parent)
        depth = _depths(parent)
        is_level = np.concatenate(
            [np.isin(dev_rows["device_type"].to_numpy(), PROTECTIVE_DEVICE_TYPES), np.ones(n_t, bool)]
        )
        is_level = np.concatenate([is_level, np.zeros(n_m, bool)])
        own_gate = np.where(node_kind == NODE_DEVICE, np.arange(n), -1).astype(np.int64)
        gate = _propagate_nearest(own_gate, parent)

        # DFS preorder from a virtual root over parent→child edges: subtrees become contiguous slices
        vroot = n
        ch = np.arange(n, dtype=np.int64)
        pa_ = np.where(parent >= 0, parent, vroot)
        tree = coo_matrix((np.ones(n), (pa_, ch)), shape=(n + 1, n + 1)).tocsr()
        order = depth_first_order(tree, vroot, directed=True, return_predecessors=False)
        preorder = np.asarray(order[1:], dtype=np.int64)
        tin = np.empty(n, dtype=np.int64)
        tin[preorder] = np.arange(len(preorder))
        size = np.ones(n, dtype=np.int64)
        meter_count = (node_kind == NODE_METER).astype(np.int64)
        cls._accumulate_up(parent, size, np.arange(n, dtype=np.int64))
        cls._accumulate_up(parent, meter_count, np.flatnonzero(node_kind == NODE_METER))

        cust = grid.customers.set_index("meter_id")["is_critical"]
        crit = cust.reindex(met["meter_id"]).fillna(False).to_numpy(dtype=bool)
        return cls(
            node_ids=node_ids,
            node_kind=node_kind,
            node_type=node_type,
            node_feeder=node_feeder,
            node_substation=node_sub,
            node_lon=node_lon,
            node_lat=node_lat,
            parent=parent,
            depth=depth,
            is_prediction_level=is_level,
            gate=gate,
            tin=tin,
            size=size,
            preorder=preorder,
            meter_count=meter_count,
            n_devices=n_d,
            n_transformers=n_t,
            meter_ids=met["meter_id"].to_numpy().astype(object),
            meter_critical=crit,
            bus_ids=buses["bus_id"].to_numpy().astype(object),
            bus_gate=np.where(nearest_dev[:n_bus] >= 0, dev_node[np.maximum(nearest_dev[:n_bus], 0)], -1),
            id_index=pd.Index(node_ids),
            _index={str(k): i for i, k in enumerate(node_ids)},
        )

    @staticmethod
    def _accumulate_up(parent: IntArray, acc: IntArray, start: IntArray) -> None:
        """Add 1 to every strict ancestor of each node in ``start`` (in place on ``acc``; build only)."""
        cur = parent[start]
        cur = cur[cur >= 0]
        while len(cur):
            np.add.at(acc, cur, 1)
            cur = parent[cur]
            cur = cur[cur >= 0]

    # --- queries -------------------------------------------------------------------------------

    @property
    def n_meters(self) -> int:
        return len(self.meter_ids)

    @property
    def meter_offset(self) -> int:
        return self.n_devices + self.n_transformers

    def node_of(self, element_id: str) -> int | None:
        return self._index.get(element_id)

    def positions(self, element_ids: Sequence[str] | npt.NDArray[np.object_] | pd.Series) -> IntArray:
        """Node position of each id, -1 when unknown (vectorized)."""
        out: IntArray = self.id_index.get_indexer(pd.Index(element_ids)).astype(np.int64)
        return out

    def meter_nodes(self, meter_ids: Sequence[str] | npt.NDArray[np.object_]) -> tuple[IntArray, list[str]]:
        """Node positions of known meters, and the ids that are not meters of this grid."""
        got = self.positions(meter_ids)
        ok = got >= 0
        ok[ok] = self.node_kind[got[ok]] == NODE_METER
        unknown = [str(m) for m, k in zip(meter_ids, ok, strict=True) if not k]
        return got[ok], unknown

    def subtree(self, node: int) -> IntArray:
        return self.preorder[self.tin[node] : self.tin[node] + self.size[node]]

    def meters_under(self, node: int) -> IntArray:
        sub = self.subtree(node)
        out: IntArray = sub[self.node_kind[sub] == NODE_METER]
        return out

    def count_under(self, nodes: IntArray) -> IntArray:
        """Per node, how many of ``nodes`` (with repetition) lie in its subtree, itself included."""
        acc = np.zeros(len(self.parent), dtype=np.int64)
        np.add.at(acc, nodes, 1)
        cur = self.parent[nodes]
        cur = cur[cur >= 0]
        while len(cur):
            np.add.at(acc, cur, 1)
            cur = self.parent[cur]
            cur = cur[cur >= 0]
        return acc

    def ancestors_mask(self, nodes: IntArray) -> BoolArray:
        """Nodes that are ``nodes`` or an ancestor of one of them."""
        mask = np.zeros(len(self.parent), dtype=bool)
        cur = np.unique(nodes)
        while len(cur):
            mask[cur] = True
            cur = self.parent[cur]
            cur = np.unique(cur[(cur >= 0)])
            cur = cur[~mask[cur]]
        return mask

    def lowest_common_ancestor(self, nodes: IntArray) -> int:
        """The deepest node whose subtree holds all ``nodes``; -1 when they hang under different feeders."""
        s = np.unique(nodes)
        if len(s) == 0:
            raise InvalidInputError("no nodes to trace", field="meter_ids")
        while len(s) > 1:
            d = self.depth[s]
            deep = d == d.max()
            lifted = self.parent[s[deep]]
            if (lifted < 0).any():
                return -1
            s = np.unique(np.concatenate([s[~deep], lifted]))
        return int(s[0])

    def lift_to_level(self, node: int) -> int:
        """The node itself if outages are predicted there (meter, transformer, protective device), else
        the nearest protective device above it (a sectionalizing switch does not operate on faults)."""
        cur = node
        while cur >= 0 and self.node_kind[cur] == NODE_DEVICE and not self.is_prediction_level[cur]:
            cur = int(self.parent[cur])
        return cur

    def lowest_common_protective_device(self, meter_ids: list[str]) -> str | None:
        """Id of the lowest prediction level (protective device or transformer) above all ``meter_ids``."""
        nodes, unknown = self.meter_nodes(meter_ids)
        if unknown:
            raise InvalidInputError(f"unknown meters: {unknown[:5]}", field="meter_ids")
        lca = self.lowest_common_ancestor(nodes)
        if lca >= 0 and self.node_kind[lca] == NODE_METER:
            lca = int(self.parent[lca])
        lca = self.lift_to_level(lca) if lca >= 0 else -1
        return None if lca < 0 else str(self.node_ids[lca])
