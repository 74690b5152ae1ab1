/** AMI analytics: feeder / transformer load curves, voltage compliance (ANSI C84.1) and reporting completeness. */
import { useState } from "react";
import { api, fmt, listOf, num, str, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { RecordTable } from "../common/JsonView";
import { LineChart } from "../common/LineChart";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { curveFrom, rowsOf } from "./amiShapes";
import { WeatherStrip } from "./WeatherStrip";
import { uiStore } from "../../state/ui";
import { timeText, zoneAbbreviation } from "../common/format";
import { humanLabel } from "../common/labels";

function Summary({ obj }: { obj: Json | null }) {
  const tz = useStore(uiStore).timeZone;
  if (!obj) return null;
  const scalars = Object.entries(obj).filter(([, v]) => typeof v !== "object" || v === null);
  return (
    <div className="chips">
      {scalars.map(([k, v]) => (
        <span className="chip" key={k}>
          {humanLabel(k)}: {typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 2) : (timeText(v, tz) ?? str(v))}
        </span>
      ))}
    </div>
  );
}

export function AmiPanel() {
  const data = useStore(mapDataStore);
  const feeders = data.assets?.feederIds ?? [];
  const [feeder, setFeeder] = useState<string>("");
  const chosen = feeder || feeders[0] || "";
  const curve = useApi(() => api.ami("feeders/load", { limit: 50_000 }), []);
  const summary = useApi(() => api.ami("feeders/summary", { limit: 20 }), []);
  const voltage = useApi(() => api.ami("voltage/transformers", { limit: 200 }), []);
  const completeness = useApi(() => api.ami("completeness"), []);
  const points = rowsOf(listOf(curve.data, "rows"), "feeder_id", chosen);
  const tz = useStore(uiStore).timeZone;
  const c = curveFrom(points, tz);
  const vRows = listOf(voltage.data, "rows");
  const outside = vRows.filter((r) => (num(r.meters_outside_a) ?? 0) > 0);
  return (
    <div data-testid="ami-panel">
      <h4>Feeder load curve</h4>
      <select value={chosen} onChange={(e) => setFeeder(e.target.value)}>
        {feeders.map((f) => (
          <option key={f}>{f}</option>
        ))}
      </select>
      <PanelState loading={curve.loading} hasData={curve.data !== null} error={curve.error} missing={curve.missing} what="AMI load curves">
        {c.kw.length > 0 ? (
          <>
            <div className="muted small" data-testid="ami-curve-zone">
              kW per hour, hours in {tz} ({zoneAbbreviation(tz)})
            </div>
            <LineChart series={[{ label: chosen, values: c.kw, colour: "#38bdf8" }]} xLabels={c.labels} unit=" kW" />
            <WeatherStrip points={points} labels={c.labels} />
          </>
        ) : (
          <div className="muted">no readings for {chosen}</div>
        )}
      </PanelState>
      <h4>Feeder peaks today</h4>
      <PanelState loading={summary.loading} hasData={summary.data !== null} error={summary.error} missing={summary.missing} what="feeder summaries">
        <RecordTable rows={listOf(summary.data, "rows")} max={10} maxCols={6} exportFrom={{ path: "/api/ami/feeders/summary" }} />
      </PanelState>
      <h4>Voltage compliance (ANSI C84.1 range A)</h4>
      <PanelState loading={voltage.loading} hasData={voltage.data !== null} error={voltage.error} missing={voltage.missing} what="voltage compliance">
        <Summary obj={vRows.length ? { transformers_reporting: vRows.length, with_meters_outside_range_a: outside.length } : null} />
        <RecordTable rows={outside.length ? outside : vRows} max={12} maxCols={6} exportFrom={{ path: "/api/ami/voltage/transformers", query: { limit: 200 } }} />
      </PanelState>
      <h4>Reporting completeness</h4>
      <PanelState loading={completeness.loading} hasData={completeness.data !== null} error={completeness.error} missing={completeness.missing} what="completeness">
        <RecordTable rows={listOf(completeness.data, "rows")} max={12} maxCols={6} exportFrom={{ path: "/api/ami/completeness" }} />
      </PanelState>
    </div>
  );
}
