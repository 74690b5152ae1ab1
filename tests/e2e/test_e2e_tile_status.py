"""Tile-only mode (what the houston preset gets) shows live status: forced with ``?tiles=on`` on `tiny`,
the page asks ``/api/tiles/status`` and, when an outage de-energizes a fuse zone (last gasps handed to
the outage engine), the zone's assets on the asset tiles turn the "out" colour on screen — counted in
the page's own screenshot — without a single tile asked again (the tiles stay cacheable: the state
reaches the map through the status list, not through the tiles). No Arrow payload, no request off the
host, no console error."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from e2e_server import UiServer, inject_last_gasps

from conftest import PageWatch
from fluxops.grid.models import Grid
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]
# the default palette's "de-energized (out)" colour, frontend/src/map/palette.ts: [217, 70, 239]
OUT_PIXELS_JS = """async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - 217) < 30 && Math.abs(d[i + 1] - 70) < 30 && Math.abs(d[i + 2] - 239) < 30) n++;
  }
  return n;
}"""


def _fuse_zone(grid: Grid) -> tuple[str, list[str]]:
    tree = ProtectionTree.build(grid)
    n = next(
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    )
    return str(tree.node_ids[n]), [str(m) for m in tree.node_ids[tree.meters_under(n)]]


def _out_pixels(page: Any) -> int:
    canvas = page.locator(".maplibregl-canvas").first
    shot = base64.b64encode(canvas.screenshot()).decode()
    n: int = page.evaluate(OUT_PIXELS_JS, shot)
    return n


def test_tile_only_map_colours_an_outage_on_the_asset_tiles(
    ui: UI, ui_server: UiServer, tiny_grid: Grid
) -> None:
    page, watch = ui
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    fuse, meters = _fuse_zone(tiny_grid)
    m = tiny_grid.meters.set_index("meter_id").loc[meters]
    lon, lat = float(np.mean(m.lon)), float(np.mean(m.lat))
    with page.expect_response(lambda r: "/api/tiles/status" in r.url, timeout=60_000) as first:
        page.goto(f"{ui_server.ui_url}&tiles=on")
    assert first.value.status == 200
    page.wait_for_function("() => !!(window.__fluxops && window.__fluxops.renders > 0)", timeout=60_000)
    page.wait_for_function(
        "() => window.__fluxops.layers.some(l => l.id === 'geo-assets-meters')", timeout=60_000
    )
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if r.url.endswith(".mvt") else None)
    page.evaluate(f"window.__fluxops.map.jumpTo({{center: [{lon}, {lat}], zoom: 16.5}})")
    page.wait_for_function("() => !window.__fluxops.map.isMoving()")
    for _ in range(600):  # the view's meter and device tiles, up to a minute on a busy machine
        urls = [u for u, _ in tiles]
        if any("/tiles/meters/" in u for u in urls) and any("/tiles/devices/" in u for u in urls):
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1500)  # parsed and drawn
    assert {s for _, s in tiles} == {200}, tiles
    before = _out_pixels(page)
    seen = len(tiles)

    inject_last_gasps(ui_server, meters, datetime.now(UTC) - timedelta(minutes=10))
    after = before
    for _ in range(120):  # the stream's nudge -> /api/tiles/status -> colours; up to a minute
        page.wait_for_timeout(500)
        after = _out_pixels(page)
        if after > before + 20:
            break
    assert after > before + 20, (before, after)
    assert any("/api/tiles/status" in u for u in asked[-200:])
    assert tiles[seen:] == [], tiles[seen:]  # no tile asked again: the colours came from the status list
    assert not any("/api/map/assets" in u for u in asked)
    assert watch.external == []
    assert watch.errors == [], watch.failed
    assert fuse  # the zone's device: drawn from the device tiles at this zoom
