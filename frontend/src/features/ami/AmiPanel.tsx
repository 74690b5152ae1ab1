/** AMI analytics: feeder / transformer load curves, voltage compliance (ANSI C84.1) and reporting completeness. */
import { useState } from "react";
import { api, fmt, listOf, str, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { LineChart } from "../common/LineChart";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { curveFrom } from "./amiShapes";

function SummaryTable({ rows, max = 12 }: { rows: Json[]; max?: number }) {
  if (rows.length === 0) return <div className="muted">no rows</div>;
  const cols = Object.keys(rows[0]).filter((k) => typeof rows[0][k] !== "object").slice(0, 6);
  return (
    <table className="list">
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c}>{c.replace(/_/g, " ")}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, max).map((r, i) => (
          <tr key={i}>
            {cols.map((c) => (
              <td key={c}>{typeof r[c] === "number" ? fmt(r[c], Number.isInteger(r[c]) ? 0 : 2) : str(r[c])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Summary({ obj }: { obj: Json | null }) {
  if (!obj) return null;
  const scalars = Object.entries(obj).filter(([, v]) => typeof v !== "object" || v === null);
  return (
    <div className="chips">
      {scalars.map(([k, v]) => (
        <span className="chip" key={k}>
          {k.replace(/_/g, " ")}: {typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 2) : str(v)}
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
  const curve = useApi(chosen ? () => api.ami("load-curves", { feeder_id: chosen }) : null, [chosen]);
  const voltage = useApi(() => api.ami("voltage-compliance"), []);
  const completeness = useApi(() => api.ami("completeness"), []);
  const c = curveFrom(listOf(curve.data, "points", "curve", "load_curve", "series"));
  const vBody = Array.isArray(voltage.data) ? null : voltage.data;
  const cBody = Array.isArray(completeness.data) ? null : completeness.data;
  return (
    <div data-testid="ami-panel">
      <h4>Feeder load curve</h4>
      <select value={chosen} onChange={(e) => setFeeder(e.target.value)}>
        {feeders.map((f) => (
          <option key={f}>{f}</option>
        ))}
      </select>
      <PanelState loading={curve.loading} error={curve.error} missing={curve.missing} what="AMI load curves">
        {c.kw.length > 0 ? (
          <LineChart series={[{ label: chosen, values: c.kw, colour: "#38bdf8" }]} xLabels={c.labels} unit=" kW" />
        ) : (
          <div className="muted">no readings for {chosen}</div>
        )}
      </PanelState>
      <h4>Voltage compliance (ANSI C84.1 range A)</h4>
      <PanelState loading={voltage.loading} error={voltage.error} missing={voltage.missing} what="voltage compliance">
        <Summary obj={vBody} />
        <SummaryTable rows={listOf(voltage.data, "feeders", "by_feeder", "meters", "violations")} />
      </PanelState>
      <h4>Reporting completeness</h4>
      <PanelState loading={completeness.loading} error={completeness.error} missing={completeness.missing} what="completeness">
        <Summary obj={cBody} />
        <SummaryTable rows={listOf(completeness.data, "feeders", "by_feeder", "days", "meters")} />
      </PanelState>
    </div>
  );
}
