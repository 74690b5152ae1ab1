/** Legend for the status colours, with the palette switch (default / colour-blind safe). */
import { PALETTES, STATUS, STATUS_LABELS, WAVE_COLOURS, rgbaCss, type StatusCode } from "../../map/palette";
import { useStore } from "../../state/store";
import { setBasemapStyleUrl, setPalette, uiStore } from "../../state/ui";
import { ZOOM } from "../../map/zoom";
import { useState } from "react";
import { gridLoadingStore } from "../../state/gridLoading";
import { loadingSourceNote } from "../../map/gridLoading";
import { cascadeStore } from "../../state/cascade";
import { mapDataStore } from "../../state/mapData";
import { isSimulating } from "../../state/simulation";
import { CREW_COLOURS } from "../../map/crews";
import { liveStore } from "../../state/live";

/** What a substation disc means, drawn as a small disc with its outage core and badge. */
function DiscKey({ outColour }: { outColour: string }) {
  return (
    <div className="legend-disc" data-testid="legend-disc">
      <svg width="34" height="28" aria-hidden="true">
        <circle cx="13" cy="15" r="11" fill="#22c55e" fillOpacity="0.85" stroke="#fff" strokeWidth="1" />
        <circle cx="13" cy="15" r="5" fill={outColour} />
        <rect x="20" y="1" width="13" height="10" rx="2" fill={outColour} />
      </svg>
      <span>
        <b>Substation disc</b>: area ∝ customers served; fill = its most loaded feeder (out only if the
        substation is); inner disc = share of its customers out (area); tag = customers out.
      </span>
    </div>
  );
}

/** Simulation mode: the wave palette, and the live statuses greyed. */
function SimulationKey({ waves }: { waves: number }) {
  return (
    <div data-testid="legend-simulation">
      <div className="legend-title">Simulation (cascade)</div>
      {WAVE_COLOURS.slice(0, Math.max(1, Math.min(waves, WAVE_COLOURS.length))).map((c, w) => (
        <div key={w} className="legend-row">
          <span className="swatch" style={{ background: rgbaCss(c) }} />
          {w === 0 ? "wave 0 (patient zero)" : `wave ${w}`}
          {w === WAVE_COLOURS.length - 1 && waves > WAVE_COLOURS.length ? " (colours repeat)" : ""}
        </div>
      ))}
      <div className="legend-row">
        <span className="swatch" style={{ background: rgbaCss(PALETTES.simulation[1]) }} /> live grid (greyed)
      </div>
    </div>
  );
}

const ORDER: StatusCode[] = [1, 2, 3, 4, 6, 5, 0];

/** Crews: where each is (base / dispatched / on site); hover one for its id, skill, status and work order. */
function CrewKey() {
  const live = useStore(liveStore);
  const n = live.crews?.length ?? null;
  return (
    <div className="legend-row" data-testid="legend-crews" title="Crew at its base, or at its work order's asset once dispatched or on site; hover a crew for id, skill, status and work order">
      {(["base", "dispatched", "on site"] as const).map((w) => (
        <span key={w} className="swatch" style={{ background: rgbaCss(CREW_COLOURS[w]), borderRadius: 2 }} title={`crew ${w === "base" ? "at base" : w}`} />
      ))}
      crews: base · dispatched · on site{n !== null ? ` (${n})` : ""}
    </div>
  );
}

export function Legend() {
  const ui = useStore(uiStore);
  const gl = useStore(gridLoadingStore);
  const cas = useStore(cascadeStore);
  const data = useStore(mapDataStore);
  const [url, setUrl] = useState(ui.basemapStyleUrl);
  const simulating = isSimulating(ui.tab, cas.nodes.length);
  return (
    <div className="legend" data-testid="legend">
      {simulating && <SimulationKey waves={cas.waveCount} />}
      <div className="legend-title">{simulating ? "Live status (greyed while simulating)" : "Status"}</div>
      {ORDER.map((c) => (
        <div key={c} className="legend-row">
          <span className="swatch" style={{ background: rgbaCss(PALETTES[ui.palette][c]) }} />
          {STATUS_LABELS[c]}
        </div>
      ))}
      <DiscKey outColour={rgbaCss(PALETTES[ui.palette][STATUS.out])} />
      <div className="legend-row">
        <span className="swatch ring tie" /> normally-open tie
      </div>
      <div className="legend-row">
        <span className="swatch ring" /> open device
      </div>
      <CrewKey />
      <label className="legend-row">
        <input
          type="checkbox"
          data-testid="palette-toggle"
          checked={ui.palette === "colorblind"}
          onChange={(e) => uiStore.update((s) => setPalette(s, e.target.checked ? "colorblind" : "default"))}
        />
        colour-blind-safe palette
      </label>
      <div className="legend-note" data-testid="legend-loading-source" title={gl.error && gl.error !== "missing" ? `server: ${gl.error}` : undefined}>
        {loadingSourceNote(gl.rows, gl.error)}
      </div>
      <div className="legend-note" data-testid="kpi-assets">
        <span className="kpi-value">{data.assets ? data.assets.count.toLocaleString("en-US") : "…"}</span> map assets ·
        substations &lt; z{ZOOM.districtFrom} · feeders ≥ z{ZOOM.districtFrom} · equipment ≥ z{ZOOM.streetFrom} · meters ≥ z{ZOOM.metersFrom}
      </div>
      <details>
        <summary>basemap</summary>
        <input
          placeholder="external style URL (blank: offline style)"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          onBlur={() => uiStore.update((s) => setBasemapStyleUrl(s, url))}
        />
      </details>
    </div>
  );
}
