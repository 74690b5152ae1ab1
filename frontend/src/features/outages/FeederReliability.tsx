/** IEEE 1366 indices per feeder over the reliability period, worst SAIDI first. */
import { api, fmt, num, str, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import { liveStore } from "../../state/live";
import { formatFigure, formatTime } from "../common/format";
import { ExportButton } from "../export/ExportButton";

export function FeederReliability() {
  const ui = useStore(uiStore);
  const live = useStore(liveStore);
  const rel = useApi(() => api.reliability({ level: "feeder" }), [live.revision]);
  const rows = (Array.isArray(rel.data?.rows) ? (rel.data.rows as Json[]) : []).slice().sort((a, b) => (num(b.saidi_min) ?? 0) - (num(a.saidi_min) ?? 0));
  const period = (rel.data?.period ?? null) as Json | null;
  return (
    <div data-testid="feeder-reliability">
      <PanelState loading={rel.loading} hasData={rel.data !== null} error={rel.error} missing={rel.missing} what="reliability">
        {period && (
          <div className="panel-sub">
            {formatTime(period.start_utc, ui.timeZone)} → {formatTime(period.end_utc, ui.timeZone)} ({formatFigure(num(period.days_covered), "days")}) ·
            sustained interruptions &gt; 5 min (IEEE 1366)
          </div>
        )}
        <ExportButton source={{ path: "/api/reliability", query: { level: "feeder" } }} geo={false} />
        <table className="list">
          <thead>
            <tr>
              <th>feeder</th>
              <th>customers</th>
              <th>interrupted</th>
              <th>SAIDI</th>
              <th>SAIFI</th>
              <th>CAIDI</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={str(r.key)} data-testid="reliability-row">
                <td>{str(r.key)}</td>
                <td>{fmt(r.customers_served)}</td>
                <td>{fmt(r.customers_interrupted)}</td>
                <td>{formatFigure(num(r.saidi_min), "min")}</td>
                <td>{formatFigure(num(r.saifi), "int.")}</td>
                <td>{r.caidi_min === null ? "no interruptions" : formatFigure(num(r.caidi_min), "min")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </PanelState>
    </div>
  );
}
