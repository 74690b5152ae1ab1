"""Compact columnar payloads for the map: every map asset in one Arrow table, meters separately.

Why Arrow: the browser draws ~70K (demo) to ~300K (houston) assets with deck.gl, which reads
typed columns directly. float32 coordinates (about 1 m at Houston's longitudes), dictionary-encoded
enumerations and integer feeder/substation indices (ids listed once in the schema metadata) keep
the payload small; IPC with zstd compresses it further (docs/benchmarks/generate.md has the bytes).
Row order: substations, feeders, line segments, devices, poles, transformers (by table row).
"""

from __future__ import annotations

import io
import json

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import shapely

from fluxops.grid.models import MAP_ASSET_TYPES, PHASES, Grid
from fluxops.grid.topology import GridTopology

MAP_SCHEMA = pa.schema(
    [
        pa.field("asset_id", pa.string(), nullable=False),
        pa.field("asset_type", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("lon", pa.float32(), nullable=False),
        pa.field("lat", pa.float32(), nullable=False),
        pa.field("path", pa.list_(pa.float32())),  # line segments: lon0, lat0, lon1, lat1[, ...]
        pa.field("feeder_index", pa.int16(), nullable=False),  # -1: none (substations, bus ties)
        pa.field("substation_index", pa.int16(), nullable=False),
        pa.field("rating_kva", pa.float32()),  # transformers; substations: capacity
        pa.field("ampacity_a", pa.float32()),  # line segments; devices: continuous rating
        pa.field("construction", pa.dictionary(pa.int8(), pa.string())),
        pa.field("state", pa.dictionary(pa.int8(), pa.string())),
        pa.field("normal_state", pa.dictionary(pa.int8(), pa.string())),
        pa.field("customers_downstream", pa.int32(), nullable=False),
        pa.field("critical", pa.bool_(), nullable=False),  # a critical customer is downstream
        pa.field("phases", pa.dictionary(pa.int8(), pa.string())),  # segments, devices, transformers
    ]
)
METER_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("lon", pa.float32(), nullable=False),
        pa.field("lat", pa.float32(), nullable=False),
        pa.field("transformer_row", pa.int32(), nullable=False),  # row of its transformer in the map table
        pa.field("feeder_index", pa.int16(), nullable=False),
    ]
)


def _idx(values: pd.Series, ids: pd.Index) -> npt.NDArray[np.int16]:
    return np.asarray(ids.get_indexer(pd.Index(values)), dtype=np.int16)


def _dict(values: list[object] | npt.NDArray[np.object_], vocab: tuple[str, ...]) -> pa.DictionaryArray:
    arr = pa.array(values, type=pa.string())
    return pa.DictionaryArray.from_arrays(
        pc.index_in(arr, value_set=pa.array(vocab)).cast(pa.int8()), pa.array(vocab)
    )


def build_map_assets(grid: Grid, topo: GridTopology | None = None) -> pa.Table:
    """Every map asset (`MAP_ASSET_TYPES`, not meters) in one table following `MAP_SCHEMA`."""
    topo = topo or GridTopology.build(grid)
    feeders = pd.Index(grid.feeders.feeder_id)
    subs = pd.Index(grid.substations.substation_id)
    edge_totals = topo.edge_totals()
    head = topo.bus_totals.reindex(grid.feeders.head_bus_id.to_numpy())
    frames: list[pd.DataFrame] = []

    def frame(**cols: object) -> None:
        frames.append(pd.DataFrame(cols))

    s, stx = grid.substations, grid.substation_transformers
    sub_tot = (
        pd.DataFrame(head.to_numpy(), columns=head.columns)
        .groupby(grid.feeders.substation_id.to_numpy())
        .sum()
    )
    frame(
        asset_id=s.substation_id,
        asset_type="substation",
        lon=s.lon,
        lat=s.lat,
        path=None,
        feeder_index=-1,
        substation_index=np.arange(len(s)),
        rating_kva=s.substation_id.map(stx.groupby("substation_id").rating_mva.sum() * 1000.0).to_numpy(),
        ampacity_a=np.nan,
        construction=None,
        state=None,
        normal_state=None,
        customers=s.substation_id.map(sub_tot.customers).fillna(0).to_numpy(),
        critical=s.substation_id.map(sub_tot.critical_customers).fillna(0).to_numpy() > 0,
        phases=None,
    )
    f = grid.feeders
    bus_xy = grid.buses.set_index("bus_id")[["lon", "lat"]].reindex(f.head_bus_id.to_numpy())
    frame(
        asset_id=f.feeder_id,
        asset_type="feeder",
        lon=bus_xy.lon.to_numpy(),
        lat=bus_xy.lat.to_numpy(),
        path=None,
        feeder_index=np.arange(len(f)),
        substation_index=_idx(f.substation_id, subs),
        rating_kva=np.nan,
        ampacity_a=np.nan,
        construction=None,
        state=None,
        normal_state=None,
        customers=head.customers.to_numpy(),
        critical=head.critical_customers.to_numpy() > 0,
        phases=None,
    )
    seg = grid.line_segments
    geom = shapely.from_wkb(seg.geometry_wkb.to_numpy())
    coords, which = shapely.get_coordinates(geom, return_index=True)
    flat = coords.astype(np.float32).reshape(-1)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(which, minlength=len(seg)) * 2)])
    mid = shapely.get_coordinates(shapely.line_interpolate_point(geom, 0.5, normalized=True))
    seg_tot = edge_totals.reindex(seg.segment_id.to_numpy())
    frame(
        asset_id=seg.segment_id,
        asset_type="line_segment",
        lon=mid[:, 0],
        lat=mid[:, 1],
        path=np.split(flat, offsets[1:-1]) if len(seg) else [],
        feeder_index=_idx(seg.feeder_id, feeders),
        substation_index=_idx(seg.substation_id, subs),
        rating_kva=np.nan,
        ampacity_a=seg.ampacity_a.to_numpy(),
        construction=seg.construction.to_numpy(),
        state="closed",
        normal_state="closed",
        customers=seg_tot.customers.to_numpy(),
        critical=seg_tot.critical_customers.to_numpy() > 0,
        phases=seg.phases.to_numpy(dtype=object),
    )
    d = grid.devices
    dev_tot = edge_totals.reindex(d.device_id.to_numpy())
    frame(
        asset_id=d.device_id,
        asset_type=d.device_type.to_numpy(),
        lon=d.lon,
        lat=d.lat,
        path=None,
        feeder_index=_idx(d.feeder_id, feeders),
        substation_index=_idx(d.substation_id, subs),
        rating_kva=np.nan,
        ampacity_a=d.rating_a.to_numpy(),
        construction=None,
        state=d.state.to_numpy(),
        normal_state=d.normal_state.to_numpy(),
        customers=dev_tot.customers.to_numpy(),
        critical=dev_tot.critical_customers.to_numpy() > 0,
        phases=d.phases.to_numpy(dtype=object),
    )
    p = grid.poles
    carried = edge_totals.reindex(p.segment_id.to_numpy())
    seg_con = seg.set_index("segment_id")["construction"]
    frame(
        asset_id=p.pole_id,
        asset_type="pole",
        lon=p.lon,
        lat=p.lat,
        path=None,
        feeder_index=_idx(p.feeder_id, feeders),
        substation_index=_idx(p.substation_id, subs),
        rating_kva=np.nan,
        ampacity_a=np.nan,
        construction=p.segment_id.map(seg_con).to_numpy(),
        state=None,
        normal_state=None,
        customers=carried.customers.fillna(0).to_numpy(),
        critical=carried.critical_customers.fillna(0).to_numpy() > 0,
        phases=None,
    )
    x = grid.transformers
    xt = topo.transformer_totals.reindex(x.transformer_id.to_numpy())
    frame(
        asset_id=x.transformer_id,
        asset_type="transformer",
        lon=x.lon,
        lat=x.lat,
        path=None,
        feeder_index=_idx(x.feeder_id, feeders),
        substation_index=_idx(x.substation_id, subs),
        rating_kva=x.rating_kva.to_numpy(),
        ampacity_a=np.nan,
        construction=None,
        state=None,
        normal_state=None,
        customers=xt.customers.to_numpy(),
        critical=xt.critical_customers.to_numpy() > 0,
        phases=x.phase.to_numpy(dtype=object),
    )
    df = pd.concat([fr for fr in frames if len(fr)], ignore_index=True)
    n = len(df)
    path_arr = pa.array(
        [v if isinstance(v, np.ndarray) else None for v in df.path], type=pa.list_(pa.float32())
    )
    columns = [
        pa.array(df.asset_id.to_numpy(dtype=object), type=pa.string()),
        _dict(df.asset_type.to_numpy(dtype=object), MAP_ASSET_TYPES),
        pa.array(df.lon.to_numpy(dtype=np.float32)),
        pa.array(df.lat.to_numpy(dtype=np.float32)),
        path_arr,
        pa.array(df.feeder_index.to_numpy(dtype=np.int16)),
        pa.array(df.substation_index.to_numpy(dtype=np.int16)),
        pa.array(df.rating_kva.to_numpy(dtype=np.float32), from_pandas=True),
        pa.array(df.ampacity_a.to_numpy(dtype=np.float32), from_pandas=True),
        _dict(df.construction.to_numpy(dtype=object), ("overhead", "underground")),
        _dict(df.state.to_numpy(dtype=object), ("closed", "open")),
        _dict(df.normal_state.to_numpy(dtype=object), ("closed", "open")),
        pa.array(np.nan_to_num(df.customers.to_numpy(dtype=np.float64)).astype(np.int32)),
        pa.array(df.critical.to_numpy(dtype=bool)),
        _dict(df.phases.to_numpy(dtype=object), PHASES),
    ]
    meta = {
        "feeders": json.dumps(list(feeders)),
        "substations": json.dumps(list(subs)),
        "grid": grid.meta.name,
        "rows": str(n),
    }
    return pa.Table.from_arrays(columns, schema=MAP_SCHEMA.with_metadata(meta))


def build_meter_points(grid: Grid) -> pa.Table:
    """Meters for close zoom (`METER_SCHEMA`); ``transformer_row`` indexes `build_map_assets` rows."""
    first_xf_row = (
        len(grid.substations)
        + len(grid.feeders)
        + len(grid.line_segments)
        + len(grid.devices)
        + len(grid.poles)
    )
    xf_rows = pd.Index(grid.transformers.transformer_id)
    m = grid.meters
    return pa.Table.from_arrays(
        [
            pa.array(m.meter_id.to_numpy(dtype=object), type=pa.string()),
            pa.array(m.lon.to_numpy(dtype=np.float32)),
            pa.array(m.lat.to_numpy(dtype=np.float32)),
            pa.array((xf_rows.get_indexer(pd.Index(m.transformer_id)) + first_xf_row).astype(np.int32)),
            pa.array(pd.Index(grid.feeders.feeder_id).get_indexer(pd.Index(m.feeder_id)).astype(np.int16)),
        ],
        schema=METER_SCHEMA,
    )


def to_ipc_bytes(table: pa.Table, compression: str | None = "zstd") -> bytes:
    """Arrow IPC stream bytes (compression: 'zstd', 'lz4' or None)."""
    sink = io.BytesIO()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue()
