/** Restored outages with filters (period, feeder, kind): duration, customers, customer-minutes, cause. */
import { useState } from "react";
import { api, fmt, listOf, str } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import { liveStore } from "../../state/live";
import { formatDuration, formatTime, minutesBetween } from "../common/format";
import { humanLabel } from "../common/labels";
import { OutageCause } from "./OutageCause";
import { ExportButton } from "../export/ExportButton";

const PERIODS: [number, string][] = [
  [1, "last 24 h"],
  [7, "last 7 days"],
  [30, "last 30 days"],
  [365, "last year"],
];
const KINDS = ["", "device", "transformer", "lights_out"];

export function OutageHistory() {
  const ui = useStore(uiStore);
  const live = useStore(liveStore);
  const [days, setDays] = useState(7);
  const [feeder, setFeeder] = useState("");
  const [kind, setKind] = useState("");
  const since = new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 13) + ":00:00Z";
  const query = { status: "restored", since, feeder: feeder.trim() || undefined, kind: kind || undefined, limit: 200 };
  const list = useApi(() => api.outages(query), [since, feeder, kind, live.revision]);
  const rows = listOf(list.data, "items");
  return (
    <div data-testid="outage-history">
      <div className="row filters">
        <select value={days} onChange={(e) => setDays(Number(e.target.value))} aria-label="period">
          {PERIODS.map(([d, label]) => (
            <option key={d} value={d}>
              {label}
            </option>
          ))}
        </select>
        <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="kind">
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k ? humanLabel(k) : "every kind"}
            </option>
          ))}
        </select>
        <input placeholder="feeder id" value={feeder} onChange={(e) => setFeeder(e.target.value)} aria-label="feeder" />
        <ExportButton source={{ path: "/api/outages", query }} />
      </div>
      <PanelState loading={list.loading} hasData={list.data !== null} error={list.error} missing={list.missing} what="outage history">
        <table className="list">
          <thead>
            <tr>
              <th>outage</th>
              <th>device</th>
              <th>started</th>
              <th>duration</th>
              <th>customers</th>
              <th>cust.-min</th>
              <th>cause</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={str(o.outage_id)} data-testid="history-row">
                <td>{str(o.outage_id)}</td>
                <td>{str(o.device_id)}</td>
                <td>{formatTime(o.start_utc, ui.timeZone)}</td>
                <td>{formatDuration(minutesBetween(o.start_utc, o.restored_utc))}</td>
                <td>{fmt(o.customers_affected)}</td>
                <td>{fmt(o.customer_minutes)}</td>
                <td>
                  <OutageCause outageId={str(o.outage_id)} cause={o.cause_code} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && rows.length === 0 && <div className="muted">No restored outages in this period.</div>}
      </PanelState>
    </div>
  );
}
