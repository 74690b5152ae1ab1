/**
 * Risk in the asset inspector (`GET /api/risk/assets/{id}`): probability and rank under the served
 * model, consequence and risk when computed ("not computed" otherwise), the top drivers in words and
 * numbers, and the asset's past failures. An asset the model does not score says so. The served model is
 * asked for first: without one the section says so instead of requesting an answer the server refuses (409).
 */
import { useApi } from "../../api/useApi";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import { formatTime } from "../common/format";
import { humanLabel } from "../common/labels";
import { extraFigures, getRiskAsset, getRiskModels } from "./riskApi";

export function RiskSection({ assetId }: { assetId: string }) {
  const ui = useStore(uiStore);
  const models = useApi(() => getRiskModels(), []);
  const served = models.data?.current ?? null;
  const r = useApi(served !== null ? () => getRiskAsset(assetId) : null, [assetId, served]);
  const d = r.data;
  return (
    <section data-testid="inspector-risk">
      <h4>Risk</h4>
      {(models.loading || r.loading) && !d && <div className="muted small">loading…</div>}
      {models.error && <div className="muted small">{models.error}</div>}
      {models.data && served === null && (
        <div className="muted small" data-testid="risk-no-model">
          no risk model trained for this grid yet (an administrator trains one: Risk tab or <code>fluxops risk train</code>)
        </div>
      )}
      {r.error && !d && <div className="muted small">{r.missing ? "not scored by the risk model" : r.error}</div>}
      {d && (
        <>
          <div className="chips">
            <span className="chip" data-testid="risk-probability">
              P(failure, 12 months): {d.asset.probability === null ? "—" : `${(d.asset.probability * 100).toFixed(1)} %`}
            </span>
            <span className="chip">rank {d.asset.rank ?? "—"}</span>
            <span className="chip">model {d.model_kind}</span>
            {extraFigures({ ...d.asset, ...d }).map(([k, v]) => (
              <span key={k} className="chip">
                {humanLabel(k)}: {v === null ? "not computed" : v.toLocaleString("en-US", { maximumFractionDigits: 2 })}
              </span>
            ))}
          </div>
          <table className="kv small" data-testid="risk-drivers">
            <tbody>
              {d.drivers.map((x) => (
                <tr key={x.feature}>
                  <th>{x.words}</th>
                  <td>
                    {x.value === null ? "—" : x.value.toLocaleString("en-US", { maximumFractionDigits: 2 })}
                    {x.log_odds_contribution !== null ? ` (${x.log_odds_contribution >= 0 ? "+" : ""}${x.log_odds_contribution.toFixed(2)} log-odds${x.direction ? `, ${x.direction}` : ""})` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.past_failures.length > 0 && (
            <div className="small">
              past failures:{" "}
              {d.past_failures
                .slice(0, 5)
                .map((p) => `${formatTime(p.start_utc, ui.timeZone)}${p.customers_affected !== null ? ` (${p.customers_affected} customers)` : ""}`)
                .join("; ")}
              {d.past_failures.length > 5 ? ` and ${d.past_failures.length - 5} more` : ""}
            </div>
          )}
        </>
      )}
    </section>
  );
}
