/**
 * Active outages: predicted device, start and duration, customers, critical customers, status.
 * Selecting one zooms to it, highlights its de-energized assets on the map and opens its detail row
 * (ETR with its source, acknowledge / confirm / restore). Sub-views: restored history, reliability.
 */
import { Fragment, useState } from "react";
import { fmt, str } from "../../api/endpoints";
import { Missing } from "../common/Status";
import { useStore } from "../../state/store";
import { outagesStore, selectOutage, type OutageItem } from "../../state/outages";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectionStore } from "../../state/selection";
import { uiStore } from "../../state/ui";
import { formatDuration, formatTime, minutesBetween, zoneAbbreviation } from "../common/format";
import { humanLabel } from "../common/labels";
import { OutageActions } from "./OutageActions";
import { liveStore } from "../../state/live";
import { stormExplanation } from "../common/explain";
import { OutageCause } from "./OutageCause";
import { etrSource } from "./outageLifecycle";
import { OutageHistory } from "./OutageHistory";
import { FeederReliability } from "./FeederReliability";
import { gridStateStore } from "../../state/gridState";
import { outageRows } from "../../map/outageArea";
import { ExportButton } from "../export/ExportButton";

/** Centre and zoom that frame an outage's de-energized assets (or its device). */
export function frameOutage(o: OutageItem): { lon: number; lat: number; zoom: number } | null {
  const d = mapDataStore.get();
  if (!d.assets) return null;
  return frameRows(Array.from(outageRows(d.assets, d.byId, gridStateStore.get().out, o)));
}

/** Centre and zoom that frame the listed asset ids (those on the map). */
export function frameIds(ids: string[]): { lon: number; lat: number; zoom: number } | null {
  const d = mapDataStore.get();
  return frameRows(ids.map((id) => d.byId.get(id)).filter((r): r is number => r !== undefined));
}

function frameRows(rows: number[]): { lon: number; lat: number; zoom: number } | null {
  const a = mapDataStore.get().assets;
  if (!a || rows.length === 0) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of rows) {
    x0 = Math.min(x0, a.lon[r]); x1 = Math.max(x1, a.lon[r]);
    y0 = Math.min(y0, a.lat[r]); y1 = Math.max(y1, a.lat[r]);
  }
  const span = Math.max(x1 - x0, y1 - y0, 0.002);
  // At zoom z a 256 px tile spans 360 / 2^z degrees; fit the span into ~300 px (margin for Mercator
  // stretch and the panels over the map).
  const zoom = Math.min(15, Math.max(10, Math.log2((300 / 256) * (360 / span))));
  return { lon: (x0 + x1) / 2, lat: (y0 + y1) / 2, zoom };
}

/** The outages side panel: active outages (with actions), restored history, reliability per feeder. */
export function OutagesPanel() {
  const [view, setView] = useState<"active" | "history" | "reliability">("active");
  return (
    <div>
      <nav className="sub-tabs">
        {(
          [
            ["active", "Active"],
            ["history", "Restored history"],
            ["reliability", "Reliability by feeder"],
          ] as const
        ).map(([v, label]) => (
          <button key={v} data-testid={`outages-view-${v}`} className={view === v ? "active" : ""} onClick={() => setView(v)}>
            {label}
          </button>
        ))}
      </nav>
      {view === "active" && <ActiveOutages />}
      {view === "history" && <OutageHistory />}
      {view === "reliability" && <FeederReliability />}
    </div>
  );
}

function OutageDetail({ o, tz }: { o: OutageItem; tz: string }) {
  return (
    <tr className="detail" data-testid="outage-detail">
      <td colSpan={6}>
        <div>
          {humanLabel(str(o.kind, ""))} {str(o.device_type, "")} {str(o.device_id)} · feeder {str(o.feeder_id)} · {fmt(o.customers_affected)} affected,{" "}
          {fmt(o.customers_out)} still out · {fmt(o.reports)} last-gasps
        </div>
        <div className="muted">
          started {formatTime(o.start_utc, tz)} · {o.acknowledged_utc ? `acknowledged ${formatTime(o.acknowledged_utc, tz)} by ${str(o.acknowledged_by)}` : "not acknowledged"}
          {o.confirmed_utc ? ` · confirmed ${formatTime(o.confirmed_utc, tz)}` : ""}
        </div>
        {o.restore_proposed === true && (
          <div className="notice" data-testid="outage-restore-proposed">
            Repair complete — work order {str(o.repair_work_order_id)} finished {formatTime(o.repair_completed_utc, tz)}. Confirm restore once supply
            is verified (nested outages and a second fault downstream are not ruled out by the crew's report).
          </div>
        )}
        <div className="muted" data-testid="outage-etr">
          ETR {o.etr_utc ? formatTime(o.etr_utc, tz) : "—"} · {etrSource(o.etr_basis)}
        </div>
        <div className="row">
          <OutageCause outageId={o.outage_id} cause={o.cause_code} />
          <OutageActions outage={o} />
        </div>
      </td>
    </tr>
  );
}

function ActiveOutages() {
  const s = useStore(outagesStore);
  const ui = useStore(uiStore);
  const ops = useStore(liveStore).opsKpis;
  if (s.error === "missing") return <Missing what="outages (/api/outages)" />;
  if (s.error) return <div className="notice error">Could not load outages: {s.error}</div>;
  if (!s.loaded) return <div className="notice">Loading outages…</div>;
  const pick = (o: OutageItem) => {
    outagesStore.update((x) => selectOutage(x, x.selectedId === o.outage_id ? null : o.outage_id));
    const f = frameOutage(o);
    if (f) selectionStore.update((x) => requestFlyTo(x, f.lon, f.lat, f.zoom));
  };
  return (
    <div data-testid="outages-panel">
      <div className="panel-sub">
        {s.items.length} active · times in {zoneAbbreviation(ui.timeZone)}
        <ExportButton source={{ path: "/api/outages", query: { status: "active", limit: 500 } }} />
      </div>
      {ops?.storm_mode === true && (
        <div className="notice warn" data-testid="storm-mode">
          {stormExplanation(ops.storm_rule, true)}
        </div>
      )}
      <table className="list">
        <thead>
          <tr>
            <th>outage</th>
            <th>device</th>
            <th>since</th>
            <th>cust. out</th>
            <th>critical</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {s.items.map((o) => (
            <Fragment key={o.outage_id}>
              <tr data-testid="outage-row" className={s.selectedId === o.outage_id ? "selected" : ""} onClick={() => pick(o)}>
                <td>{o.outage_id}</td>
                <td>{str(o.device_id)}</td>
                <td title={formatTime(o.start_utc, ui.timeZone)}>
                  {formatTime(o.start_utc, ui.timeZone, false)} · {formatDuration(minutesBetween(o.start_utc, null))}
                </td>
                <td>{fmt(o.customers_out)}</td>
                <td className={(o.critical_customers_affected ?? 0) > 0 ? "warn" : ""}>{fmt(o.critical_customers_affected)}</td>
                <td>
                  {humanLabel(o.status)}
                  {o.acknowledged_utc ? " · ack" : ""}
                </td>
              </tr>
              {s.selectedId === o.outage_id && <OutageDetail o={o} tz={ui.timeZone} />}
            </Fragment>
          ))}
        </tbody>
      </table>
      {s.items.length === 0 && <div className="muted">No active outages.</div>}
    </div>
  );
}
