/**
 * The Risk tab: the served model's ranked assets (filters, sort, paging from `GET /api/risk/assets`),
 * consequence and risk columns when the server computed them ("not computed" otherwise), and the model
 * cards (`GET /api/risk/models`). A row opens the asset in the inspector.
 */
import { useApi } from "../../api/useApi";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { humanLabel } from "../common/labels";
import { PanelState } from "../common/Status";
import { extraFigures, getRiskModels, listRiskAssets, TABLE_FIGURES, type RiskAssetRow } from "./riskApi";
import { pageLabel, riskStore, setFilter } from "./riskState";
import { ModelCardView } from "./ModelCard";

export const RISK_TYPES = ["transformer", "line_segment", "pole", "fuse", "recloser", "sectionalizer", "breaker", "switch", "substation_transformer"];

function open(id: string) {
  const d = mapDataStore.get();
  const r = d.byId.get(id);
  selectionStore.update((s) => (r === undefined || !d.assets ? selectAsset(s, id) : requestFlyTo(selectAsset(s, id), d.assets.lon[r], d.assets.lat[r], 15.5)));
}

const pct = (p: number | null) => (p === null ? "—" : `${(p * 100).toFixed(1)} %`);
const fig = (v: number | null) => (v === null ? "not computed" : v.toLocaleString("en-US", { maximumFractionDigits: 2 }));

function Row({ a, extras }: { a: RiskAssetRow; extras: string[] }) {
  const ex = new Map(extraFigures(a));
  return (
    <tr className="clickable" data-testid="risk-row" onClick={() => open(a.asset_id)}>
      <td>{a.rank ?? "—"}</td>
      <td>{a.asset_id}</td>
      <td>{humanLabel(a.asset_type)}</td>
      <td>{a.feeder_id ?? "—"}</td>
      <td>{pct(a.probability)}</td>
      <td>{a.customers_affected ?? "—"}</td>
      <td>{a.past_failures ?? "—"}</td>
      {extras.map((k) => (
        <td key={k}>{fig(ex.get(k) ?? null)}</td>
      ))}
    </tr>
  );
}

export function RiskPanel() {
  const st = useStore(riskStore);
  const f = st.filters;
  const page = useApi(
    () => listRiskAssets({ asset_type: f.assetType || undefined, feeder_id: f.feederId || undefined, sort: f.sort, limit: f.limit, offset: f.offset }),
    [f.assetType, f.feederId, f.sort, f.limit, f.offset],
  );
  const models = useApi(() => getRiskModels(), []);
  const upd = (patch: Partial<typeof f>) => riskStore.update((s) => ({ ...s, filters: setFilter(s.filters, patch) }));
  const rows = page.data?.assets ?? [];
  const all = rows.length ? extraFigures(rows[0]).map(([k]) => k) : [];
  const preferred = all.filter((k) => TABLE_FIGURES.includes(k));
  const extras = preferred.length ? preferred : all;
  const computed = rows.some((r) => extras.some((k) => typeof r[k] === "number"));
  const total = page.data?.total ?? 0;
  const served = models.data?.models.find((m) => m.model_id === models.data?.current) ?? null;
  return (
    <div className="risk-panel" data-testid="risk-panel">
      <section>
        <h4>Ranked assets {page.data ? <span className="muted small">P(failure in the {page.data.horizon})</span> : null}</h4>
        <div className="row">
          <select aria-label="asset type" data-testid="risk-type" value={f.assetType} onChange={(e) => upd({ assetType: e.target.value })}>
            <option value="">all types</option>
            {RISK_TYPES.map((t) => (
              <option key={t} value={t}>
                {humanLabel(t)}
              </option>
            ))}
          </select>
          <input aria-label="feeder" placeholder="feeder id" value={f.feederId} onChange={(e) => upd({ feederId: e.target.value.trim() })} />
          <select aria-label="sort" value={f.sort} onChange={(e) => upd({ sort: e.target.value })}>
            <option value="-probability">most likely first</option>
            <option value="-customers_affected">most customers first</option>
            <option value="-past_failures">most past failures first</option>
            <option value="asset_id">by id</option>
          </select>
        </div>
        <PanelState loading={page.loading} hasData={!!page.data} error={page.error} missing={page.missing} what="risk scores">
          <table className="table small" data-testid="risk-table">
            <thead>
              <tr>
                <th>rank</th>
                <th>asset</th>
                <th>type</th>
                <th>feeder</th>
                <th>P (12 mo)</th>
                <th>customers</th>
                <th>past failures</th>
                {extras.map((k) => (
                  <th key={k}>{humanLabel(k)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <Row key={a.asset_id} a={a} extras={extras} />
              ))}
            </tbody>
          </table>
          {!computed && rows.length > 0 && <div className="muted small">consequence and risk (customer-minutes, $): not computed for this model</div>}
          <div className="row small">
            <button disabled={f.offset === 0} onClick={() => upd({ offset: f.offset - f.limit })}>
              ‹ prev
            </button>
            <span data-testid="risk-page">{pageLabel(f, total)}</span>
            <button disabled={f.offset + f.limit >= total} onClick={() => upd({ offset: f.offset + f.limit })}>
              next ›
            </button>
          </div>
        </PanelState>
      </section>
      <section>
        <h4>Model card</h4>
        <PanelState loading={models.loading} hasData={!!models.data} error={models.error} missing={models.missing} what="risk models">
          {served ? <ModelCardView card={served} serving /> : <div className="muted">no model is serving: an admin runs `fluxops risk train` (or POST /api/risk/train)</div>}
          {(models.data?.models ?? [])
            .filter((m) => m.model_id !== models.data?.current)
            .slice(0, 3)
            .map((m) => (
              <details key={m.model_id}>
                <summary className="small">
                  earlier: {m.kind} {m.model_id}
                </summary>
                <ModelCardView card={m} serving={false} />
              </details>
            ))}
        </PanelState>
      </section>
    </div>
  );
}
