/** The header strip: customers served/out, load, active outages, SAIDI/SAIFI/CAIDI with period, crews. */
import { fmt, num, type Json } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { outagesStore } from "../../state/outages";
import { uiStore } from "../../state/ui";
import { formatDate, formatFigure, formatTime } from "../common/format";
import { TimeZonePicker } from "./TimeZonePicker";
import { stormExplanation } from "../common/explain";

/** First numeric field among `keys` (backends name things slightly differently; we read what is there). */
export function pickNum(obj: Json | null | undefined, ...keys: string[]): number | null {
  if (!obj) return null;
  for (const k of keys) {
    const v = num(obj[k]);
    if (v !== null) return v;
  }
  return null;
}

function Kpi({ label, value, unit, sub, testid, hint }: { label: string; value: string; unit?: string; sub?: string; testid: string; hint?: string }) {
  return (
    <div className="kpi" data-testid={testid} title={hint ?? (sub ? `${label}: ${sub}` : label)}>
      <div className="kpi-value">
        {value}
        {unit && value !== "—" && <span className="kpi-unit"> {unit}</span>}
      </div>
      <div className="kpi-label">{label}</div>
      {sub && <div className="kpi-sub">{sub}</div>}
    </div>
  );
}

export function KpiHeader() {
  const live = useStore(liveStore);
  const out = useStore(outagesStore);
  const ui = useStore(uiStore);
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
  const period = rel ? `${formatDate(rel.period_start_utc, ui.timeZone)} → ${formatDate(rel.period_end_utc, ui.timeZone)}` : "";
  const crews = live.crews;
  const available = crews ? crews.filter((c) => c.status === "available").length : null;
  return (
    <div className="kpis" data-testid="kpi-header">
      <Kpi testid="kpi-customers" label="customers served" value={served === null ? "—" : fmt(served)} />
      <Kpi
        testid="kpi-customers-out"
        label="customers out"
        value={customersOut === null ? "—" : fmt(customersOut)}
        sub={out.error === "missing" ? "outage route missing" : ops?.storm_mode ? "storm mode ⓘ" : undefined}
        hint={ops?.storm_mode ? stormExplanation(ops.storm_rule, true) : undefined}
      />
      <Kpi
        testid="kpi-load"
        label={liveMw !== null ? "load (AMI)" : "design peak"}
        value={formatFigure(liveMw ?? peakMw, "", 1)}
        unit="MW"
        sub={liveMw === null ? "no AMI readings yet" : `hour from ${formatTime(live.amiLoad!.hour, ui.timeZone, false)}`}
      />
      <Kpi testid="kpi-outages" label="active outages" value={activeOutages === null ? "—" : fmt(activeOutages)} />
      <Kpi testid="kpi-saidi" label="SAIDI" value={rel ? formatFigure(num(rel.saidi_min)) : "—"} unit="min" sub={relMissing ? "reliability route missing" : period} />
      <Kpi testid="kpi-saifi" label="SAIFI" value={rel ? formatFigure(num(rel.saifi)) : "—"} unit="int./cust." />
      <Kpi
        testid="kpi-caidi"
        label="CAIDI"
        value={rel && num(rel.caidi_min) !== null ? formatFigure(num(rel.caidi_min)) : "—"}
        unit="min"
        sub={rel && num(rel.caidi_min) === null ? "no interruptions" : undefined}
      />
      <Kpi
        testid="kpi-crews"
        label="crews available"
        value={crews ? `${available} / ${crews.length}` : "—"}
        sub={live.errors.crews === "missing" ? "crews route missing" : undefined}
      />
      <TimeZonePicker />
      <div className={`live-dot ${live.streamConnected ? "on" : "off"}`} title={live.lastEventUtc ? `last event ${live.lastEventUtc}` : "stream"}>
        {live.streamConnected ? "LIVE" : "offline"}
      </div>
    </div>
  );
}
