/** Legend of the H3 heat layer: the ramp's stops with values and units, the cell size and the total. */
import { heatLegend, h3Metric, rgbaCss } from "./scales";
import type { H3State } from "./layersState";

export function HeatLegend({ h3 }: { h3: H3State }) {
  if (!h3.metric) return null;
  const m = h3Metric(h3.metric);
  const stops = heatLegend(h3.max, m, h3.cellAreaKm2);
  return (
    <div className="heat-legend" data-testid="h3-legend">
      <div className="muted small">
        {m.label}, H3 resolution {h3.resolution}: {h3.cells.length.toLocaleString("en-US")} cells, total{" "}
        {h3.total.toLocaleString("en-US", { maximumFractionDigits: m.digits })} {m.unit}
        {h3.truncated ? " (largest cells only)" : ""}
      </div>
      {stops.length === 0 && <div className="muted small">nothing to show (every cell is 0 {m.unit})</div>}
      {stops.map((s) => (
        <div key={s.label} className="legend-row">
          <span className="swatch" style={{ background: rgbaCss(s.colour), display: "inline-block", width: 14, height: 10, marginRight: 6 }} />
          {s.label}
        </div>
      ))}
      {h3.note && <div className="muted small">{h3.note}</div>}
    </div>
  );
}
