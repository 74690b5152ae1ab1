/**
 * The inspector's related outages and work orders, from `/api/assets/{id}/related`: outages the asset
 * is part of by the outage's own members (never "same feeder"), work orders by asset or outage.
 * Refetched on every stream event and after actions taken in this tab.
 */
import { api, fmt, str, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { uiStore } from "../../state/ui";
import { OutageActions } from "../outages/OutageActions";
import { etrSource } from "../outages/outageLifecycle";
import { formatDuration, formatTime, minutesBetween } from "../common/format";
import { humanLabel } from "../common/labels";

const RELATION: Record<string, string> = {
  device: "its device operated",
  member: "this customer is out",
  feeds: "downstream of this asset",
  inside: "inside the outage zone",
};

function OutageLine({ o, tz }: { o: Json; tz: string }) {
  const id = str(o.outage_id);
  return (
    <li data-testid="related-outage">
      <div>
        <b>{id}</b> · {humanLabel(str(o.status))} · {fmt(o.customers_out)} customers out · {RELATION[str(o.relation)] ?? str(o.relation)}
      </div>
      <div className="muted small">
        since {formatTime(o.start_utc, tz)} ({formatDuration(minutesBetween(o.start_utc, null))}) · ETR{" "}
        {o.etr_utc ? formatTime(o.etr_utc, tz) : "—"} ({etrSource(o.etr_basis)})
      </div>
      <OutageActions outage={{ ...o, outage_id: id, status: str(o.status) }} />
    </li>
  );
}

export function RelatedRecords({ assetId }: { assetId: string }) {
  const live = useStore(liveStore);
  const ui = useStore(uiStore);
  const rel = useApi(() => api.related(assetId), [assetId, live.revision]);
  const outages = rel.data?.outages ?? [];
  const orders = rel.data?.work_orders ?? [];
  return (
    <>
      <section>
        <h4>Related outages</h4>
        <PanelState loading={rel.loading} hasData={rel.data !== null} error={rel.error} missing={rel.missing} what="related outages">
          {rel.data && outages.length === 0 && (
            <div className="muted" data-testid="related-none">
              none active
            </div>
          )}
          <ul className="related">
            {outages.map((o) => (
              <OutageLine key={str(o.outage_id)} o={o} tz={ui.timeZone} />
            ))}
          </ul>
        </PanelState>
      </section>
      <section>
        <h4>Work orders</h4>
        <PanelState loading={rel.loading} hasData={rel.data !== null} error={rel.error} missing={rel.missing} what="work orders">
          <ul data-testid="related-workorders">
            {orders.map((w) => (
              <li key={str(w.work_order_id)} data-testid="related-workorder">
                {str(w.work_order_id)} · {humanLabel(str(w.work_type))} · {humanLabel(str(w.status))}
                {w.crew_id ? ` · ${str(w.crew_id)}` : ""}
              </li>
            ))}
            {rel.data && orders.length === 0 && <li className="muted">none</li>}
          </ul>
        </PanelState>
      </section>
    </>
  );
}
