"""The Arrow IPC map payloads: gzip, ETag/304, row counts, meter bbox filtering."""

from __future__ import annotations

import gzip

import httpx
import pyarrow as pa
from live_server import LiveServer

from fluxops.api.deps import ARROW_STREAM_MEDIA_TYPE
from fluxops.grid.models import MAP_ASSET_TYPES


def test_map_assets_arrow_gzip_etag(live: LiveServer, viewer: httpx.Client) -> None:
    counts = live.store.count_assets_by_type()
    expected = sum(n for t, n in counts.items() if t in MAP_ASSET_TYPES)
    r = viewer.get("/api/map/assets")  # httpx sends Accept-Encoding: gzip and decodes it
    assert r.status_code == 200
    assert r.headers["content-type"] == ARROW_STREAM_MEDIA_TYPE
    assert r.headers["content-encoding"] == "gzip"
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.num_rows == expected == int(r.headers["x-row-count"])
    types = set(table.column("asset_type").to_pylist())
    assert types <= set(MAP_ASSET_TYPES)
    etag = r.headers["etag"]
    again = viewer.get("/api/map/assets", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    plain = viewer.get("/api/map/assets", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == r.content
    with viewer.stream("GET", "/api/map/assets") as resp:
        compressed = b"".join(resp.iter_raw())
    assert gzip.decompress(compressed) == plain.content
    assert len(compressed) < len(plain.content)


def test_map_meters_with_and_without_bbox(live: LiveServer, viewer: httpx.Client) -> None:
    grid = live.store.read_grid()
    full = pa.ipc.open_stream(viewer.get("/api/map/meters").content).read_all()
    assert full.num_rows == len(grid.meters)
    lon0, lat0 = grid.meters[["lon", "lat"]].median()
    box = (lon0 - 0.5, lat0 - 0.5, lon0, lat0 + 0.5)
    r = viewer.get("/api/map/meters", params={"bbox": ",".join(map(str, box))})
    part = pa.ipc.open_stream(r.content).read_all()
    lon = full.column("lon").to_numpy().astype("float64")  # the server compares in doubles
    lat = full.column("lat").to_numpy().astype("float64")
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    assert part.num_rows == int(inside.sum())
    assert 0 < part.num_rows < full.num_rows
    assert viewer.get("/api/map/meters", params={"bbox": "0,0,-1,1"}).status_code == 422
