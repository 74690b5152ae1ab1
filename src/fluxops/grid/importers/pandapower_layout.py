"""A schematic layout for a network without coordinates (Kerber grids, hand-built cases).

Why: the map needs a position for every bus, and an invented geographic position would be read as real.
So the layout is openly schematic: a layered tree drawn from the source bus (ext_grid) down, one layer
per hop, leaves spread left to right in depth-first order and each parent centred over its children
(the classic "tidy tree" idea, Reingold & Tilford 1981, in its simplest form). Deterministic: the
traversal follows the element tables' order. Positions are small lon/lat offsets around (0°, 0°) so
every consumer of WGS84 columns keeps working; ``grid.meta.params['layout'] == 'schematic'`` tells the
UI to draw them as a diagram, not on a basemap.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import pandas as pd

# spacing of the diagram in degrees (≈ 110 m at the equator): readable at street zoom on the map
STEP_DEG = 0.001


def _edges(net: Any) -> list[tuple[Any, Any]]:
    """Every connection between buses regardless of state: lines, bus-bus switches, transformers."""
    out: list[tuple[Any, Any]] = list(zip(net.line["from_bus"], net.line["to_bus"], strict=True))
    if "switch" in net and len(net.switch):
        bb = net.switch[net.switch["et"] == "b"]
        out += list(zip(bb["bus"], bb["element"], strict=True))
    for table, a, b in (("trafo", "hv_bus", "lv_bus"), ("impedance", "from_bus", "to_bus")):
        if table in net and len(net[table]):
            out += list(zip(net[table][a], net[table][b], strict=True))
    return out


def schematic_layout(net: Any) -> pd.DataFrame:
    """lon/lat per pandapower bus (index = ``net.bus.index``): a layered tree from the ext_grid buses.

    Buses not reachable from a source (isolated in the source data) are laid out as further trees,
    to the right, from their lowest-indexed bus.
    """
    buses = list(net.bus.index)
    adj: dict[Any, list[Any]] = {b: [] for b in buses}
    for a, b in _edges(net):
        if a in adj and b in adj and a != b:
            adj[a].append(b)
            adj[b].append(a)
    roots = [b for b in dict.fromkeys(net.ext_grid["bus"].tolist()) if b in adj]
    depth: dict[Any, int] = {}
    children: dict[Any, list[Any]] = {b: [] for b in buses}
    order: list[Any] = []
    for start in roots + buses:
        if start in depth:
            continue
        depth[start] = 0
        order.append(start)
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if v not in depth:
                    depth[v] = depth[u] + 1
                    children[u].append(v)
                    queue.append(v)
    x: dict[Any, float] = {}
    next_leaf = 0.0
    for root in order:
        # iterative post-order: leaves take the next slot, parents the mean of their children
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            u, done = stack.pop()
            if done:
                kids = children[u]
                if kids:
                    x[u] = float(np.mean([x[k] for k in kids]))
                else:
                    x[u] = next_leaf
                    next_leaf += 1.0
                continue
            stack.append((u, True))
            stack.extend((k, False) for k in reversed(children[u]))
        next_leaf += 1.0  # a gap between separate trees
    lon = np.array([x[b] for b in buses]) * STEP_DEG
    lat = -np.array([depth[b] for b in buses], dtype=float) * STEP_DEG
    return pd.DataFrame({"lon": lon, "lat": lat}, index=net.bus.index)
