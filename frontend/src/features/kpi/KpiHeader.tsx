/** The header strip: customers served/out, load, active outages, SAIDI/SAIFI/CAIDI with period, crews. */
import { fmt, num, str, type Json } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { outagesStore } from "../../state/outages";
import { mapDataStore } from "../../state/mapData";

/** First numeric field among `keys` (backends name things slightly differently; we read what is there). */
export function pickNum(obj: Json | null | undefined, ...keys: string[]): number | null {
  if (!obj) return null;
  for (const k of keys) {
    const v = num(obj[k]);
    if (v !== null) return v;
  }
  return null;
}

function Kpi({ label, value, sub, testid }: { label: string; value: string; sub?: string; testid: string }) {
  return (
    <div className="kpi" data-testid={testid}>
      <div className="kpi-value">{value}</div>
      <div className="kpi-label">{label}</div>
      {sub && <div className="kpi-sub">{sub}</div>}
    </div>
  );
}

export function KpiHeader() {
  const live = useStore(liveStore);
  const out = useStore(outagesStore);
  const map = useStore(mapDataStore);
  const k = live.kpis;
  const ops = live.opsKpis;
  const relRows = Array.isArray(live.reliability?.rows) ? (live.reliability.rows as Json[]) : [];
  const rel = relRows.find((r) => r.key === "system") ?? relRows[0] ?? null;
  const served = pickNum(ops, "customers_served") ?? pickNum(k, "customers");
  const customersOut = pickNum(ops, "customers_out") ?? (out.loaded && !out.error ? out.items.reduce((t, o) => t + (num(o.customers_out) ?? 0), 0) : null);
  const activeOutages = pickNum(ops, "active_outages") ?? (out.loaded && !out.error ? out.items.length : null);
  // Live load is the AMI sum for the latest hour; without readings, the design peak, labelled as such.
  const liveMw = live.amiLoad ? live.amiLoad.kw / 1000 : null;
  const peakMw = pickNum(k, "peak_mw");
  const relMissing = live.errors.reliability === "missing";
  const period = rel ? `${str(rel.period_start_utc, "").slice(0, 10)} → ${str(rel.period_end_utc, "").slice(0, 10)}` : "";
  const crews = live.crews;
  const available = crews ? crews.filter((c) => c.status === "available").length : null;
  return (
    <div className="kpis" data-testid="kpi-header">
      <Kpi testid="kpi-assets" label="map assets" value={map.assets ? map.assets.count.toLocaleString() : "…"} />
      <Kpi testid="kpi-customers" label="customers served" value={served === null ? "—" : fmt(served)} />
      <Kpi
        testid="kpi-customers-out"
        label="customers out"
        value={customersOut === null ? "—" : fmt(customersOut)}
        sub={out.error === "missing" ? "outage route missing" : ops?.storm_mode ? "storm mode" : undefined}
      />
      <Kpi
        testid="kpi-load"
        label={liveMw !== null ? "load MW (AMI)" : "design peak MW"}
        value={fmt(liveMw ?? peakMw, 1)}
        sub={liveMw === null ? "no AMI readings yet" : `hour ${live.amiLoad!.hour.slice(11, 16)} UTC`}
      />
      <Kpi testid="kpi-outages" label="active outages" value={activeOutages === null ? "—" : fmt(activeOutages)} />
      <Kpi
        testid="kpi-saidi"
        label="SAIDI min / SAIFI / CAIDI min"
        value={rel ? `${fmt(rel.saidi_min, 1)} / ${fmt(rel.saifi, 3)} / ${fmt(rel.caidi_min, 1)}` : "—"}
        sub={relMissing ? "reliability route missing" : period}
      />
      <Kpi
        testid="kpi-crews"
        label="crews available"
        value={crews ? `${available} / ${crews.length}` : "—"}
        sub={live.errors.crews === "missing" ? "crews route missing" : undefined}
      />
      <div className={`live-dot ${live.streamConnected ? "on" : "off"}`} title={live.lastEventUtc ? `last event ${live.lastEventUtc}` : "stream"}>
        {live.streamConnected ? "LIVE" : "offline"}
      </div>
    </div>
  );
}
