/**
 * The map: MapLibre draws the basemap (our own offline style unless an external URL is set), deck.gl
 * draws every asset on top through MapboxOverlay. This component only wires camera, picking and layers.
 */
import { useEffect, useRef, useState } from "react";
import * as maplibregl from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import "maplibre-gl/dist/maplibre-gl.css";
import { MapboxOverlay } from "@deck.gl/mapbox";
import type { PickingInfo } from "@deck.gl/core";
import { useStore } from "../state/store";
import { mapDataStore } from "../state/mapData";
import { uiStore } from "../state/ui";
import { selectAsset, selectionStore } from "../state/selection";
import { cascadeStore, pickPatientZero } from "../state/cascade";
import { EMPTY_STYLE, ownStyle } from "./basemap";
import { bounds } from "./geometry";
import { resolvePick } from "./picking";
import { useMapLayers } from "./useMapLayers";
import { tooltipFor } from "./tooltip";
import type { CrewPoint } from "./crews";
import { CREW_LAYER_ID } from "./layers/crews";
import { layersStore } from "../features/layers/layersState";

/** The crew layer's points (its data is the CrewPoint list), for tooltips and clicks. */
function crewsOf(info: PickingInfo): CrewPoint[] {
  return info.layer?.id === CREW_LAYER_ID ? ((info.layer.props.data as CrewPoint[] | undefined) ?? []) : [];
}


maplibregl.setWorkerUrl(workerUrl);

/**
 * What the browser tests and the benchmark read: the map, how many frames deck.gl drew, and the
 * layers currently composed (id, visibility, element count). Read-only; nothing in the app uses it.
 */
export interface MapProbe {
  map: maplibregl.Map | null;
  renders: number;
  /** frames drawn with the live grid state's colours (the benchmark's "first full render") */
  liveRenders: number;
  /** time to decode the Arrow map payload, ms */
  decodeMs: number;
  layers: { id: string; visible: boolean; length: number }[];
}

/** Search / locate fly-to: short enough that the map is there within half a second of Enter. */
const FLY_MS = 400;

function probe(): MapProbe {
  const w = window as unknown as { __fluxops?: MapProbe };
  w.__fluxops ??= { map: null, renders: 0, liveRenders: 0, decodeMs: 0, layers: [] };
  return w.__fluxops;
}

/** Zoom rounded to a quarter step: layers are recomposed when the band can change, not on every frame. */
const quantise = (z: number) => Math.round(z * 4) / 4;

export interface MapViewProps {
  /** when true, a click picks the cascade's patient zero instead of opening the inspector */
  pickingPatientZero: boolean;
  onPatientZeroPicked: () => void;
}

export function MapView({ pickingPatientZero, onPatientZeroPicked }: MapViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<maplibregl.Map | null>(null);
  const overlayRef = useRef<MapboxOverlay | null>(null);
  const [zoom, setZoom] = useState(9);
  const data = useStore(mapDataStore);
  const ui = useStore(uiStore);
  const sel = useStore(selectionStore);
  const { layers, liveVersion } = useMapLayers(zoom);
  const pickMode = useRef(pickingPatientZero);
  pickMode.current = pickingPatientZero;

  useEffect(() => {
    if (!container.current) return;
    const map = new maplibregl.Map({
      container: container.current,
      style: EMPTY_STYLE,
      center: [-95.37, 29.76],
      zoom: 9,
      attributionControl: false,
      renderWorldCopies: false,
      maxPitch: 0,
      dragRotate: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "bottom-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    const overlay = new MapboxOverlay({ interleaved: false, layers: [] });
    map.addControl(overlay);
    map.on("zoom", () => setZoom(quantise(map.getZoom())));
    mapRef.current = map;
    overlayRef.current = overlay;
    probe().map = map;
    return () => {
      map.remove();
      mapRef.current = null;
      overlayRef.current = null;
    };
  }, []);

  // Basemap: our own style from the payload, or the configured external style.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !data.assets) return;
    map.setStyle(ui.basemapStyleUrl ? ui.basemapStyleUrl : ownStyle(data.assets));
  }, [data.assets, ui.basemapStyleUrl]);

  // First payload of a grid: frame the whole service territory. Once per grid, not per payload object: a
  // refreshed payload (live state, reload) must not throw the operator's view back to the whole territory.
  const framedGrid = useRef<string | null>(null);
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !data.assets) return;
    const gridKey = `${data.assets.ids.length}:${data.assets.ids[0] ?? ""}:${data.assets.ids[data.assets.ids.length - 1] ?? ""}`;
    if (framedGrid.current === gridKey) return;
    framedGrid.current = gridKey;
    const b = bounds(data.assets);
    if (b) map.fitBounds(b, { padding: 40, animate: false });
    setZoom(quantise(map.getZoom()));
  }, [data.assets]);

  useEffect(() => {
    const f = sel.flyTo;
    if (f && mapRef.current) mapRef.current.flyTo({ center: [f.lon, f.lat], zoom: f.zoom, duration: FLY_MS });
  }, [sel.flyTo]);

  useEffect(() => {
    const overlay = overlayRef.current;
    const g = data.geometry;
    if (overlay && !g && layers.length > 0) {
      // tile-only mode (no payload: a grid too large for it): the layer control's tile layers alone. Before
      // the payload of a payload-mode map, the overlay layers (labels, crews) are drawn but not counted as
      // a render of the grid (the probe's "renders" means the grid is on screen).
      const tileOnly = layersStore.get().tileOnly;
      probe().layers = layers.map((l) => ({ id: l.id, visible: l.props.visible !== false, length: 0 }));
      overlay.setProps({ layers, onAfterRender: () => (tileOnly ? probe().renders++ : undefined) });
      return;
    }
    if (!overlay || !g) return;
    probe().decodeMs = data.decodeMs;
    probe().layers = layers.map((l) => ({
      id: l.id,
      visible: l.props.visible !== false,
      length: Number((l.props.data as { length?: number } | undefined)?.length ?? 0),
    }));
    overlay.setProps({
      layers,
      onAfterRender: () => {
        if (layers.length > 0) probe().renders++;
        if (layers.length > 0 && liveVersion >= 0) probe().liveRenders++;
      },
      getTooltip: (info: PickingInfo) =>
        tooltipFor(resolvePick(info.layer?.id, info.index, g, data.meters), data, cascadeStore.get().nodes, crewsOf(info)),
      onClick: (info: PickingInfo) => {
        const p = resolvePick(info.layer?.id, info.index, g, data.meters);
        if (!p || !data.assets) return;
        // a crew: its work site's asset (a crew at base opens nothing)
        const crewSite = p.kind === "crew" ? (crewsOf(info)[p.index]?.assetId ?? null) : null;
        const id = p.kind === "asset" ? data.assets.ids[p.row] : p.kind === "meter" ? p.id : crewSite;
        if (id === null) return;
        if (pickMode.current) {
          cascadeStore.update((s) => pickPatientZero(s, id));
          onPatientZeroPicked();
        } else {
          selectionStore.update((s) => selectAsset(s, id));
        }
      },
    });
  }, [layers, liveVersion, data, onPatientZeroPicked]);

  return (
    <div className="map-wrap">
      <div ref={container} className="map" data-testid="map" />
      <div className="zoom-badge" data-testid="zoom">
        zoom {zoom.toFixed(2)}
      </div>
    </div>
  );
}
