/** Legend for the status colours, with the palette switch (default / colour-blind safe). */
import { PALETTES, STATUS_LABELS, rgbaCss, type StatusCode } from "../../map/palette";
import { useStore } from "../../state/store";
import { setBasemapStyleUrl, setPalette, uiStore } from "../../state/ui";
import { ZOOM } from "../../map/zoom";
import { useState } from "react";
import { gridLoadingStore } from "../../state/gridLoading";
import { loadingSourceNote } from "../../map/gridLoading";

const ORDER: StatusCode[] = [1, 2, 3, 4, 6, 5, 0];

export function Legend() {
  const ui = useStore(uiStore);
  const gl = useStore(gridLoadingStore);
  const [url, setUrl] = useState(ui.basemapStyleUrl);
  return (
    <div className="legend" data-testid="legend">
      <div className="legend-title">Status</div>
      {ORDER.map((c) => (
        <div key={c} className="legend-row">
          <span className="swatch" style={{ background: rgbaCss(PALETTES[ui.palette][c]) }} />
          {STATUS_LABELS[c]}
        </div>
      ))}
      <div className="legend-row">
        <span className="swatch ring tie" /> normally-open tie
      </div>
      <div className="legend-row">
        <span className="swatch ring" /> open device
      </div>
      <label className="legend-row">
        <input
          type="checkbox"
          data-testid="palette-toggle"
          checked={ui.palette === "colorblind"}
          onChange={(e) => uiStore.update((s) => setPalette(s, e.target.checked ? "colorblind" : "default"))}
        />
        colour-blind-safe palette
      </label>
      <div className="legend-note" data-testid="legend-loading-source">
        {loadingSourceNote(gl.rows, gl.error)}
      </div>
      <div className="legend-note">
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
