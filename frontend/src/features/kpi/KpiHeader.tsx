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
  const rel = live.reliability;
  const gs = live.gridState;
  const served = pickNum(k, "customers", "customers_served", "n_customers");
  const customersOut = out.loaded && !out.error ? out.items.reduce((t, o) => t + (num(o.customers_out) ?? 0), 0) : null;
  const loadMw = pickNum(gs, "load_mw", "p_mw", "total_load_mw") ?? null;
  const relMissing = live.errors.reliability === "missing";
  const period = rel ? `${str(rel.period_start_utc ?? rel.start_utc ?? rel.period, "")}${rel.period_end_utc ? ` → ${str(rel.period_end_utc)}` : ""}` : "";
  const crews = live.crews;
  const available = crews ? crews.filter((c) => c.status === "available").length : null;
  return (
    <div className="kpis" data-testid="kpi-header">
      <Kpi testid="kpi-assets" label="map assets" value={map.assets ? map.assets.count.toLocaleString() : "…"} />
      <Kpi testid="kpi-customers" label="customers served" value={served === null ? "—" : fmt(served)} />
      <Kpi
        testid="kpi-customers-out"
        label="customers out"
        value={customersOut === null ? (out.error === "missing" ? "n/a" : "—") : fmt(customersOut)}
      />
      <Kpi
        testid="kpi-load"
        label="load MW"
        value={loadMw === null ? "—" : fmt(loadMw, 1)}
        sub={loadMw === null ? (live.errors.gridState === "missing" ? "no live state route" : "") : "live"}
      />
      <Kpi testid="kpi-outages" label="active outages" value={out.loaded && !out.error ? String(out.items.length) : "—"} />
      <Kpi
        testid="kpi-saidi"
        label="SAIDI min / SAIFI / CAIDI min"
        value={rel ? `${fmt(pickNum(rel, "saidi_min", "saidi"), 1)} / ${fmt(pickNum(rel, "saifi"), 2)} / ${fmt(pickNum(rel, "caidi_min", "caidi"), 1)}` : "—"}
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
