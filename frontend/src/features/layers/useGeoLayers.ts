/**
 * The layer control's map layers, composed after the grid's own: geo tiles that are on, the H3 heat
 * layer, the selection, the risk layer, basemap labels and (in tile mode) the asset layers from tiles.
 * Memoised on the slices they read; `useMapLayers` appends them.
 */
import { useEffect, useMemo } from "react";
import type { Layer } from "@deck.gl/core";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { selectAsset, selectionStore } from "../../state/selection";
import { getToken } from "../../api/auth";
import { buildGeoTileLayer, geoStyle } from "../../map/layers/geoTiles";
import { withLiveStatus } from "../../map/layers/geoStatus";
import { uiStore } from "../../state/ui";
import { tileStatusStore } from "./tileStatus";
import { buildH3Layer } from "../../map/layers/geoH3";
import { buildSelectionShapeLayers } from "../../map/layers/geoSelection";
import { buildLabelLayers } from "../../map/layers/geoLabels";
import { buildRiskLayer, type RiskLayerData } from "../../map/layers/riskAssets";
import { ZOOM } from "../../map/zoom";
import type { MapProbe } from "../../map/MapView";
import { ASSET_TILE_LAYERS, assetTilesOn, layersStore, vegetationSource } from "./layersState";
import { ensureAssetTiles, TILE_MODE_ABOVE } from "./AssetTileMode";
import { loadLabels, loadTileLayers } from "./layersApi";
import { circleRing, haversineM as haversine } from "./selectionTotals";
import { riskStore } from "../risk/riskState";

export const VEGETATION_LAYER = "vegetation-risk";

/** `below`: area layers drawn under the grid (geo tiles, H3); `above`: risk, selection and labels. */
export interface GeoLayers {
  below: Layer[];
  above: Layer[];
}

export function useGeoLayers(zoom: number): GeoLayers {
  const s = useStore(layersStore);
  const data = useStore(mapDataStore);
  const risk = useStore(riskStore);
  const live = useStore(tileStatusStore);
  const palette = useStore(uiStore).palette;
  const token = getToken();
  const assetTiles = assetTilesOn(s.tileMode, s.elementCount, TILE_MODE_ABOVE);

  // Once: the server's tile layers and the basemap labels (the grid's size comes with `startMap`).
  useEffect(() => {
    void loadTileLayers();
    void loadLabels();
  }, []);
  // At street zoom the labels follow the view (a city has more streets than one answer holds).
  const street = zoom >= ZOOM.streetFrom;
  useEffect(() => {
    const map = (window as unknown as { __fluxops?: MapProbe }).__fluxops?.map;
    if (!map || !street) return;
    const onMove = () => {
      if (map.getZoom() < ZOOM.streetFrom) return;
      const b = map.getBounds();
      void loadLabels([Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())]);
    };
    onMove();
    map.on("moveend", onMove);
    return () => {
      map.off("moveend", onMove);
    };
  }, [street]);
  useEffect(() => {
    if (assetTiles && s.available) void ensureAssetTiles();
  }, [assetTiles, s.available]);

  const tiles = useMemo(() => {
    const out: Layer[] = [];
    for (const l of s.available ?? []) {
      const urls = s.tileUrls[l.name];
      if (!urls || ASSET_TILE_LAYERS.includes(l.name) || !s.on[l.name]) continue;
      out.push(buildGeoTileLayer({ name: l.name, urls, minZoom: l.min_zoom, token, style: geoStyle(l.name), styleKey: l.name }));
    }
    const veg = vegetationSource(s);
    if (veg && s.on[VEGETATION_LAYER] && s.tileUrls[veg.tileLayer] && (!veg.fromSegments || s.vegetation)) {
      const info = (s.available ?? []).find((l) => l.name === veg.tileLayer);
      out.push(
        buildGeoTileLayer({
          name: VEGETATION_LAYER,
          urls: s.tileUrls[veg.tileLayer],
          minZoom: info?.min_zoom ?? 10,
          token,
          style: geoStyle(veg.tileLayer, veg.fromSegments ? s.vegetation : null),
          styleKey: `${veg.tileLayer}:${s.vegetation?.size ?? 0}`,
        }),
      );
    }
    if (assetTiles) {
      for (const name of ASSET_TILE_LAYERS) {
        const urls = s.tileUrls[name];
        const info = (s.available ?? []).find((l) => l.name === name);
        if (urls && info) {
          out.push(
            buildGeoTileLayer({
              name: `assets-${name}`,
              urls,
              minZoom: info.min_zoom,
              token,
              style: withLiveStatus(name, geoStyle(name), live.byId, palette),
              styleKey: `${name}:${live.epoch ?? ""}:${live.version}:${palette}`,
              onPickId: (id) => selectionStore.update((x) => selectAsset(x, id)),
            }),
          );
        }
      }
    }
    return out;
  }, [s.available, s.tileUrls, s.on, s.vegetation, assetTiles, token, live, palette]);

  const h3 = useMemo(
    () => (s.h3.metric && s.h3.cells.length ? [buildH3Layer(s.h3.cells, s.h3.max, `${s.h3.metric}:${s.h3.resolution}:${s.h3.cells.length}`)] : []),
    [s.h3.metric, s.h3.cells, s.h3.max, s.h3.resolution],
  );

  const sel = s.selection;
  const selection = useMemo(() => {
    const shape = sel.shape;
    const ring = shape ? (shape.kind === "polygon" ? shape.ring : circleRing(shape.centre, shape.radiusM)) : null;
    const drawing = sel.mode === "radius" && sel.drawing.length === 2 ? circleRing(sel.drawing[0], haversine(sel.drawing[0], sel.drawing[1])) : sel.drawing;
    const hits = (sel.answer?.items ?? []).map((i) => [i.lon, i.lat] as [number, number]);
    return buildSelectionShapeLayers(ring, drawing, hits);
  }, [sel.shape, sel.drawing, sel.mode, sel.answer]);

  // Positions: the risk row's own (the API serves them) or, for an older server, the map payload's.
  const riskData = useMemo((): RiskLayerData | null => {
    const a = data.assets;
    const m = risk.map;
    if (!m) return null;
    const keep: number[] = [];
    const xy: number[] = [];
    m.ids.forEach((id, i) => {
      const r = data.byId.get(id);
      const lon = Number.isFinite(m.lon[i]) ? m.lon[i] : a && r !== undefined ? a.lon[r] : Number.NaN;
      const lat = Number.isFinite(m.lat[i]) ? m.lat[i] : a && r !== undefined ? a.lat[r] : Number.NaN;
      if (Number.isFinite(lon) && Number.isFinite(lat)) {
        keep.push(i);
        xy.push(lon, lat);
      }
    });
    return {
      positions: Float32Array.from(xy),
      probability: Float32Array.from(keep, (i) => m.probability[i]),
      consequence: Float32Array.from(keep, (i) => m.consequence[i]),
      ids: keep.map((i) => m.ids[i]),
    };
  }, [data.assets, data.byId, risk.map]);
  const riskLayer = useMemo(
    () => (s.riskOn && riskData ? [buildRiskLayer(riskData, `r${riskData.ids.length}:${risk.map?.consequenceKey ?? ""}`, (id) => selectionStore.update((x) => selectAsset(x, id)))] : []),
    [s.riskOn, riskData, risk.map],
  );

  const labels = useMemo(
    () => (s.labelsOn && (s.streets.length || s.neighbourhoods.length) ? buildLabelLayers(s.streets, s.neighbourhoods, zoom, ZOOM.streetFrom) : []),
    [s.labelsOn, s.streets, s.neighbourhoods, zoom],
  );

  const below = useMemo(() => [...tiles, ...h3], [tiles, h3]);
  const above = useMemo(() => [...riskLayer, ...selection, ...labels], [riskLayer, selection, labels]);
  return useMemo(() => ({ below, above }), [below, above]);
}
