/**
 * The Layers tab: geo layers from the server's tiles (only those its tile list names), the H3 heat
 * layer with its legend, the risk layer, lasso / radius selection with its table, basemap labels, a
 * PMTiles basemap from a local file, and whether grid assets come from tiles.
 */
import { useState } from "react";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { setBasemapStyleUrl, uiStore } from "../../state/ui";
import { pmtilesStyle, styleBlobUrl } from "../../map/basemap";
import { geoLayers, layersStore, setLayerOn, setSelection, setSelectionMode, vegetationSource, type TileLayerInfo } from "./layersState";
import { loadH3, loadTileJson, loadVegetation } from "./layersApi";
import { ENCROACHMENT_BANDS, H3_METRICS, rgbaCss } from "./scales";
import { HeatLegend } from "./HeatLegend";
import { SelectionTable } from "./SelectionTable";
import { useSelectionTool } from "./useSelectionTool";
import { VEGETATION_LAYER } from "./useGeoLayers";
import { riskStore } from "../risk/riskState";
import { loadRiskMap } from "../risk/riskLoad";
import { AssetTileMode } from "./AssetTileMode";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function toggle(layer: TileLayerInfo, on: boolean, setErr: (m: string | null) => void) {
  setErr(null);
  try {
    if (on) await loadTileJson(layer);
    layersStore.update((s) => setLayerOn(s, layer.name, on));
  } catch (e) {
    setErr(`${layer.name}: ${message(e)}`);
  }
}

async function toggleVegetation(on: boolean, setErr: (m: string | null) => void) {
  setErr(null);
  const s = layersStore.get();
  const src = vegetationSource(s);
  const info = (s.available ?? []).find((l) => l.name === src?.tileLayer);
  if (!src || !info) return;
  try {
    if (on) {
      await loadTileJson(info);
      if (src.fromSegments) await loadVegetation();
    }
    layersStore.update((x) => setLayerOn(x, VEGETATION_LAYER, on));
  } catch (e) {
    setErr(`vegetation: ${message(e)}`);
  }
}

function lonLatOf(id: string): [number, number] | null {
  const d = mapDataStore.get();
  const r = d.byId.get(id);
  return r === undefined || !d.assets || !Number.isFinite(d.assets.lon[r]) ? null : [d.assets.lon[r], d.assets.lat[r]];
}

export function LayersPanel() {
  const s = useStore(layersStore);
  const risk = useStore(riskStore);
  const [err, setErr] = useState<string | null>(null);
  const [pmNote, setPmNote] = useState<string | null>(null);
  useSelectionTool(s.selection.mode);
  const geo = geoLayers(s);
  const veg = vegetationSource(s);
  const vegOn = !!s.on[VEGETATION_LAYER] && (!veg?.fromSegments || !!s.vegetation);
  return (
    <div className="layers-panel" data-testid="layers-panel">
      <section>
        <h4>Map layers</h4>
        {s.availableError && <div className="notice error">Tile layers unavailable: {s.availableError}</div>}
        {s.available === null && !s.availableError && <div className="muted">loading the server's tile layers…</div>}
        {veg && (
          <label className="legend-row">
            <input type="checkbox" data-testid={`layer-${VEGETATION_LAYER}`} checked={vegOn} onChange={(e) => void toggleVegetation(e.target.checked, setErr)} />
            Vegetation risk (spans by months to encroachment)
          </label>
        )}
        {s.on[VEGETATION_LAYER] && s.vegetationError && <div className="notice error small">Vegetation: {s.vegetationError}</div>}
        {vegOn && (
          <div className="small" data-testid="vegetation-legend">
            {ENCROACHMENT_BANDS.map((b) => (
              <span key={b.label} className="legend-row">
                <span className="swatch" style={{ background: rgbaCss(b.colour), display: "inline-block", width: 14, height: 4, marginRight: 6 }} />
                {b.label}
              </span>
            ))}
            <span className="legend-row muted">grey: no tree reaches clearance within the horizon, or no inventory for the span</span>
          </div>
        )}
        {geo.map((l) => (
          <label key={l.name} className="legend-row" title={l.description}>
            <input type="checkbox" data-testid={`layer-${l.name}`} checked={!!s.on[l.name]} onChange={(e) => void toggle(l, e.target.checked, setErr)} />
            {l.description || l.name} <span className="muted small">from z{l.min_zoom}</span>
          </label>
        ))}
        {s.available !== null && geo.length === 0 && <div className="muted small">The server has no canopy, water, flood or building layers loaded.</div>}
        <label className="legend-row">
          <input
            type="checkbox"
            data-testid="layer-risk"
            checked={s.riskOn}
            onChange={(e) => {
              const on = e.target.checked;
              layersStore.update((x) => ({ ...x, riskOn: on }));
              if (on) void loadRiskMap();
            }}
          />
          Risk (colour: P(failure, 12 months); size: consequence when computed)
        </label>
        {s.riskOn && risk.mapError && <div className="notice error small">Risk: {risk.mapError}</div>}
        {s.riskOn && risk.map && (
          <div className="muted small" data-testid="risk-layer-note">
            top {risk.map.ids.length.toLocaleString("en-US")} of {risk.map.total.toLocaleString("en-US")} scored assets by probability;{" "}
            {risk.map.consequenceKey ? `size by ${risk.map.consequenceKey}` : "consequence not computed: one size"}
          </div>
        )}
        <label className="legend-row">
          <input type="checkbox" data-testid="layer-labels" checked={s.labelsOn} onChange={(e) => layersStore.update((x) => ({ ...x, labelsOn: e.target.checked }))} />
          Street and neighbourhood names
        </label>
        {err && <div className="notice error small">{err}</div>}
      </section>
      <section>
        <h4>Heat (H3)</h4>
        <div className="row">
          <select
            aria-label="h3 metric"
            data-testid="h3-metric"
            value={s.h3.metric ?? ""}
            onChange={(e) => {
              const m = e.target.value;
              if (m) void loadH3(m, s.h3.resolution, lonLatOf);
              else layersStore.update((x) => ({ ...x, h3: { ...x.h3, metric: null, cells: [] } }));
            }}
          >
            <option value="">off</option>
            {H3_METRICS.map((m) => (
              <option key={m.key} value={m.key}>
                {m.label}
              </option>
            ))}
          </select>
          <select aria-label="h3 resolution" value={s.h3.resolution} onChange={(e) => s.h3.metric && void loadH3(s.h3.metric, Number(e.target.value), lonLatOf)}>
            {[6, 7, 8, 9, 10].map((r) => (
              <option key={r} value={r}>
                res {r}
              </option>
            ))}
          </select>
        </div>
        {s.h3.error && <div className="notice error small">{s.h3.error}</div>}
        <HeatLegend h3={s.h3} />
      </section>
      <section>
        <h4>Select on the map</h4>
        <div className="row">
          {(["lasso", "radius"] as const).map((m) => (
            <button
              key={m}
              data-testid={`select-${m}`}
              className={s.selection.mode === m ? "active" : ""}
              onClick={() => layersStore.update((x) => setSelectionMode(x, x.selection.mode === m ? "off" : m))}
            >
              {m === "lasso" ? "Lasso" : "Radius"}
            </button>
          ))}
          <button data-testid="select-clear" onClick={() => layersStore.update((x) => setSelection(setSelectionMode(x, "off"), { shape: null, answer: null, error: null }))}>
            Clear
          </button>
        </div>
        {s.selection.mode !== "off" && (
          <div className="muted small">{s.selection.mode === "lasso" ? "press and drag around the assets" : "press at the centre, drag to the radius, release"}</div>
        )}
        <SelectionTable sel={s.selection} />
      </section>
      <section>
        <h4>Basemap</h4>
        <label className="legend-row">
          PMTiles file{" "}
          <input
            type="file"
            accept=".pmtiles"
            data-testid="pmtiles-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (!f) return;
              setPmNote(null);
              pmtilesStyle(f)
                .then((style) => uiStore.update((u) => setBasemapStyleUrl(u, styleBlobUrl(style))))
                .catch((x: unknown) => setPmNote(`not a PMTiles archive: ${message(x)}`));
            }}
          />
        </label>
        <button onClick={() => uiStore.update((u) => setBasemapStyleUrl(u, ""))}>Own offline basemap</button>
        {pmNote && <div className="notice error small">{pmNote}</div>}
        <AssetTileMode />
      </section>
    </div>
  );
}
