/** Derives deck.gl layers from the state slices; every heavy derivation is memoised on its inputs. */
import { useMemo, useRef } from "react";
import type { Layer } from "@deck.gl/core";
import { useStore } from "../state/store";
import { mapDataStore, type MapDataState } from "../state/mapData";
import { uiStore } from "../state/ui";
import { selectionStore } from "../state/selection";
import { outagesStore, selectedOutage } from "../state/outages";
import { gridStateStore } from "../state/gridState";
import { outageRows, outRows } from "./outageArea";
import { cascadeStore } from "../state/cascade";
import { computeColours, composeLayers, substationRadii } from "./compose";
import { computeStatus } from "./status";
import { feederLoadingPct, withFeederLoading } from "./feederLoading";
import { liveStore } from "../state/live";
import { gridLoadingStore } from "../state/gridLoading";
import { loadingOverlay, mergeLoading, mergeVoltage, voltageFromMeters } from "./gridLoading";
import type { CascadeLayerData } from "./layers/cascade";
import type { OutageLayerData } from "./layers/outages";
import { substationOutages } from "./substationOutages";
import { isSimulating } from "../state/simulation";
import { useGeoLayers } from "../features/layers/useGeoLayers";
import { crewsStore } from "../state/crews";
import { crewPoints } from "./crews";
import { buildCrewLayers } from "./layers/crews";
import { windowGeometry, windowMeters, type ViewWindow } from "./viewWindow";
import type { MapGeometry, MeterData } from "../state/mapData";

export interface MapLayers {
  layers: Layer[];
  status: Uint8Array | null;
  liveVersion: number;
  /** what the grid layers were built from (the view window's subset): picking resolves against these */
  geometry: MapGeometry | null;
  meters: MeterData | null;
}

/** `view`: the view window (map/viewWindow.ts); null draws the whole grid. */
export function useMapLayers(zoom: number, view: ViewWindow | null = null): MapLayers {
  const data = useStore(mapDataStore);
  const ui = useStore(uiStore);
  const sel = useStore(selectionStore);
  const out = useStore(outagesStore);
  const cas = useStore(cascadeStore);
  const gs = useStore(gridStateStore);
  const a = data.assets;
  const live = a && gs.out && gs.out.length === a.count ? gs : null;
  // only what is around the view goes to deck.gl (a software renderer pays per element drawn)
  const geometry = useMemo(() => (data.geometry ? windowGeometry(data.geometry, view) : null), [data.geometry, view]);
  const meters = useMemo(() => windowMeters(data.meters, view), [data.meters, view]);

  const liveState = useStore(liveStore);
  const gl = useStore(gridLoadingStore);
  // Per-segment loading from the whole-grid power flow; without it, the per-feeder approximation.
  const flow = useMemo(() => (a && gl.rows ? loadingOverlay(a.count, data.byId, gl.rows) : null), [a, data.byId, gl.rows]);
  const perFeeder = useMemo(
    () => (a && !flow && data.feederDesign.size ? feederLoadingPct(a, data.feederDesign, liveState.amiFeederKw) : null),
    [a, flow, data.feederDesign, liveState.amiFeederKw],
  );
  const loading = useMemo(() => {
    if (!a) return null;
    const l = live?.loadingPct ?? null;
    return flow ? mergeLoading(l, flow.loadingPct) : withFeederLoading(a, l, perFeeder);
  }, [a, live, flow, perFeeder]);
  const meterVoltage = useMemo(
    () => (a ? voltageFromMeters(a.count, data.meters, gs.voltageMeters) : null),
    [a, data.meters, gs.voltageMeters],
  );
  const voltage = useMemo(() => mergeVoltage(flow?.voltage ?? null, meterVoltage), [flow, meterVoltage]);
  const status = useMemo(
    () => (a ? computeStatus(a, { out: live?.out ?? null, voltage, loadingPct: loading }) : null),
    [a, live, voltage, loading],
  );
  const radii = useMemo(
    () => (a && data.geometry ? substationRadii(a, data.geometry, data.customersBySubstation) : null),
    [a, data.geometry, data.customersBySubstation],
  );
  // Under a cascade simulation the live map is greyed so only the simulated waves carry colour.
  const simulating = isSimulating(ui.tab, cas.nodes.length);
  const palette = simulating ? "simulation" : ui.palette;
  // Every recomputation of the colour arrays gets a new key, so deck.gl re-uploads them (updateTriggers).
  const colourSeq = useRef(0);
  const colours = useMemo(
    () =>
      a && geometry && status && radii
        ? computeColours(a, geometry, status, palette, radii, meters, `c${++colourSeq.current}`)
        : null,
    [a, geometry, status, radii, palette, meters],
  );
  const subOutages = useMemo(() => {
    if (!a || !data.geometry) return null;
    const rows = data.geometry.substations.rows;
    const ids = Array.from(rows, (r) => a.ids[r]);
    const served = Array.from(rows, (r, j) => (Number.isNaN(a.customers[r]) ? (data.customersBySubstation.get(ids[j]) ?? Number.NaN) : a.customers[r]));
    return substationOutages(ids, served, out.items);
  }, [a, data.geometry, data.customersBySubstation, out.items]);

  const sel0 = selectedOutage(out);
  const outageData = useMemo((): OutageLayerData | null => {
    if (!a) return null;
    const all = outRows(live?.out ?? null);
    const chosen = sel0 ? outageRows(a, data.byId, live?.out ?? null, sel0) : new Int32Array(0);
    const chosenSet = new Set(chosen);
    const rows = [...all, ...Array.from(chosen).filter((r) => !live?.out?.[r])];
    if (rows.length === 0) return null;
    const positions = new Float32Array(rows.length * 2);
    const selected = new Uint8Array(rows.length);
    rows.forEach((r, j) => {
      positions[2 * j] = a.lon[r];
      positions[2 * j + 1] = a.lat[r];
      selected[j] = chosenSet.has(r) ? 1 : 0;
    });
    return { positions, selected };
  }, [a, data.byId, live, sel0]);

  const cascadeData = useMemo((): CascadeLayerData | null => {
    if (!a || cas.nodes.length === 0) return null;
    const nodes = cas.nodes.filter((n) => data.byId.has(n.node_id));
    const positions = new Float32Array(nodes.length * 2);
    const causes = new Float32Array(nodes.length * 2).fill(Number.NaN);
    const waves = new Int32Array(nodes.length);
    let patientZero: [number, number] | null = null;
    nodes.forEach((n, j) => {
      const r = data.byId.get(n.node_id)!;
      positions[2 * j] = a.lon[r];
      positions[2 * j + 1] = a.lat[r];
      waves[j] = n.wave;
      const c = n.cause_id ? data.byId.get(n.cause_id) : undefined;
      if (c !== undefined) {
        causes[2 * j] = a.lon[c];
        causes[2 * j + 1] = a.lat[c];
      } else {
        causes[2 * j] = a.lon[r];
        causes[2 * j + 1] = a.lat[r];
      }
      if (n.node_id === cas.patientZero || (n.wave === 0 && patientZero === null)) patientZero = [a.lon[r], a.lat[r]];
    });
    return { positions, waves, causePositions: causes, patientZero };
  }, [a, data.byId, cas.nodes, cas.patientZero]);

  const crewWork = useStore(crewsStore);
  const crews = useMemo(() => (a ? crewPoints(liveState.crews ?? [], crewWork.workOrders, (id) => assetPosition(data, id)) : []), [a, data, liveState.crews, crewWork.workOrders]);

  const selectedRow = sel.selectedId !== null ? (data.byId.get(sel.selectedId) ?? -1) : -1;
  const selectedPosition = useMemo((): [number, number] | null => {
    if (!a || selectedRow < 0) return null;
    return [a.lon[selectedRow], a.lat[selectedRow]];
  }, [a, selectedRow]);

  const layers = useMemo(() => {
    if (!a || !geometry || !colours) return [];
    return composeLayers({
      assets: a,
      geometry,
      colours,
      zoom,
      selectedRow,
      selectedPosition,
      meters,
      outages: outageData,
      outageKey: `${out.selectedId}:${gs.version}`,
      cascade: cascadeData,
      currentWave: cas.currentWave,
      focusWave: cas.focusWave,
      substationOutages: subOutages,
      outageDataKey: out.items.map((o) => `${o.outage_id}:${String(o.customers_out)}`).join("|"),
      palette: ui.palette,
      simulating,
      reverseFlow: flow && flow.reverseCount > 0 ? flow.reverse : null,
    }).concat(simulating ? [] : buildCrewLayers(crews, crews.map((c) => `${c.crewId}@${c.lon},${c.lat}`).join("|")));
  }, [a, geometry, colours, zoom, selectedRow, selectedPosition, meters, outageData, out.selectedId, out.items, gs.version, cascadeData, cas.currentWave, cas.focusWave, subOutages, ui.palette, simulating, flow, crews]);

  // The layer control's layers: geo tiles and H3 under the grid's own, risk, selection and labels over them.
  const geo = useGeoLayers(zoom);
  const all = useMemo(() => [...geo.below, ...layers, ...geo.above], [layers, geo]);
  return { layers: all, status, liveVersion: live ? gs.version : -1, geometry, meters };
}

/** A map asset's or (once loaded) a meter's position. */
export function assetPosition(d: MapDataState, id: string): [number, number] | null {
  const a = d.assets;
  const r = d.byId.get(id);
  if (a && r !== undefined) return [a.lon[r], a.lat[r]];
  const m = d.meters;
  if (m) {
    const j = m.ids.indexOf(id);
    if (j >= 0) return [m.positions[2 * j], m.positions[2 * j + 1]];
  }
  return null;
}
