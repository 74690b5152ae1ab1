/**
 * The map: MapLibre draws the basemap (our own offline style unless an external URL is set), deck.gl
 * draws every asset on top through MapboxOverlay. This component only wires camera, picking and layers.
 */
import { useEffect, useRef, useState } from "react";
import * as maplibregl from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import "maplibre-gl/dist/maplibre-gl.css";
import { MapboxOverlay } from "@deck.gl/mapbox";
import type { Layer, PickingInfo } from "@deck.gl/core";
import { useStore } from "../state/store";
import { mapDataStore } from "../state/mapData";
import { uiStore } from "../state/ui";
import { flightReady, selectAsset, selectionStore, type FlyTo } from "../state/selection";
import { cascadeStore, pickPatientZero } from "../state/cascade";
import { EMPTY_STYLE, ownStyle } from "./basemap";
import { bounds } from "./geometry";
import { resolvePick } from "./picking";
import { useMapLayers } from "./useMapLayers";
import { nextWindow, type ViewBounds, type ViewWindow } from "./viewWindow";
import { flightMs, frameDrawn, frameStarted } from "./frameCost";
import { tooltipFor } from "./tooltip";
import type { CrewPoint } from "./crews";
import { CREW_LAYER_ID } from "./layers/crews";
import { layersStore } from "../features/layers/layersState";
import { gridDrawn } from "../state/firstFrame";

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
  /**
   * The camera of the last frame deck.gl drew, and whether that frame's layers were built for the view
   * window of that camera (the benchmark's "map arrived": the target's street layers are on screen).
   */
  drawn?: { lon: number; lat: number; zoom: number; current: boolean };
}

/** A camera move that waits for the inspector to paint goes anyway after this (slow or failed details). */
const INSPECTOR_WAIT_MS = 250;

function viewBounds(map: maplibregl.Map): ViewBounds {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}

/** Fly, or jump where the renderer draws too slowly for an animation to be seen (frameCost.ts). */
function moveCamera(map: maplibregl.Map, f: FlyTo): void {
  const ms = flightMs();
  if (ms === 0) map.jumpTo({ center: [f.lon, f.lat], zoom: f.zoom });
  else map.flyTo({ center: [f.lon, f.lat], zoom: f.zoom, duration: ms });
}

function probe(): MapProbe {
  const w = window as unknown as { __fluxops?: MapProbe };
  w.__fluxops ??= { map: null, renders: 0, liveRenders: 0, decodeMs: 0, layers: [] };
  return w.__fluxops;
}

/**
 * Layers with nothing to draw stay out of deck.gl: an initialized layer costs its shaders and buffers in
 * the first frame even when empty or hidden (street-zoom devices, outage badges with no outage). Layers
 * whose data is not a counted collection (tile layers' URLs) always go in.
 */
function hasData(l: Layer): boolean {
  const d = l.props.data as { length?: unknown } | null | undefined;
  return !(d && typeof d === "object" && d.length === 0);
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
  // the view window: which lines, devices and meters deck.gl gets (viewWindow.ts); set when the camera stops
  const [view, setView] = useState<ViewWindow | null>(null);
  const data = useStore(mapDataStore);
  const ui = useStore(uiStore);
  const sel = useStore(selectionStore);
  const { layers, liveVersion, geometry: drawnGeometry, meters: drawnMeters } = useMapLayers(zoom, view);
  const flown = useRef(0); // the last camera move started
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
    map.on("moveend", () => setView((w) => nextWindow(w, viewBounds(map), map.getZoom())));
    setView((w) => nextWindow(w, viewBounds(map), map.getZoom()));
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
    setView((w) => nextWindow(w, viewBounds(map), map.getZoom()));
  }, [data.assets]);

  // A camera move after a new selection waits for the inspector's details to paint (state/selection.ts),
  // and so do the map's own updates (a new selection ring is a frame): under a software renderer a frame
  // holds the main thread for hundreds of milliseconds, and the details are what the operator asked for.
  const fly = sel.flyTo;
  const [released, setReleased] = useState(0); // a flight the cap let go without its inspector
  const waiting = fly !== null && fly.seq !== released && fly.seq !== flown.current && !flightReady(sel);
  useEffect(() => {
    if (!fly || !waiting) return;
    const timer = setTimeout(() => setReleased(fly.seq), INSPECTOR_WAIT_MS);
    return () => clearTimeout(timer);
  }, [fly, waiting]);
  useEffect(() => {
    const map = mapRef.current;
    if (!fly || !map || waiting || fly.seq === flown.current) return;
    flown.current = fly.seq;
    moveCamera(map, fly);
  }, [fly, waiting]);

  useEffect(() => {
    const overlay = overlayRef.current;
    const g = drawnGeometry;
    if (waiting) return; // the inspector paints first (see above)
    if (overlay && !g && layers.length > 0) {
      // tile-only mode (no payload: a grid too large for it): the layer control's tile layers alone. Before
      // the payload of a payload-mode map, the overlay layers (labels, crews) are drawn but not counted as
      // a render of the grid (the probe's "renders" means the grid is on screen).
      const tileOnly = layersStore.get().tileOnly;
      probe().layers = layers.map((l) => ({ id: l.id, visible: l.props.visible !== false, length: 0 }));
      overlay.setProps({
        layers,
        onAfterRender: () => {
          if (!tileOnly) return;
          probe().renders++;
          gridDrawn();
        },
      });
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
      layers: layers.filter(hasData),
      onBeforeRender: frameStarted,
      onAfterRender: () => {
        frameDrawn();
        if (layers.length > 0) {
          probe().renders++;
          gridDrawn();
        }
        if (layers.length > 0 && liveVersion >= 0) probe().liveRenders++;
        const map = mapRef.current;
        if (map) {
          const c = map.getCenter();
          const current = view !== null && nextWindow(view, viewBounds(map), map.getZoom()) === view;
          probe().drawn = { lon: c.lng, lat: c.lat, zoom: map.getZoom(), current };
        }
      },
      getTooltip: (info: PickingInfo) =>
        tooltipFor(resolvePick(info.layer?.id, info.index, g, drawnMeters), data, cascadeStore.get().nodes, crewsOf(info)),
      onClick: (info: PickingInfo) => {
        const p = resolvePick(info.layer?.id, info.index, g, drawnMeters);
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
  }, [layers, liveVersion, data, drawnGeometry, drawnMeters, view, waiting, onPatientZeroPicked]);

  return (
    <div className="map-wrap">
      <div ref={container} className="map" data-testid="map" />
      <div className="zoom-badge" data-testid="zoom">
        zoom {zoom.toFixed(2)}
      </div>
    </div>
  );
}
