/** The served model's card: what won and by how much, the metrics per model with 95 % intervals on
 * the held-out test year, calibration and top-10 % capture charts, the training window. */
import { formatTime } from "../common/format";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import type { ModelCard as Card } from "./riskApi";
import { intervalText, METRICS } from "./riskCharts";
import { CalibrationPlot, CaptureChart } from "./RiskCharts";

export function ModelCardView({ card, serving }: { card: Card; serving: boolean }) {
  const ui = useStore(uiStore);
  const ev = card.evaluation;
  const test = ev?.test ?? {};
  const models = Object.keys(test);
  const margin = ev?.validation_margin_auprc;
  return (
    <div className="model-card" data-testid="model-card">
      <div>
        <b>{card.kind}</b> {serving ? <span className="chip">serving</span> : null} <span className="muted small">{card.model_id}</span>
      </div>
      <div className="small">{card.task}</div>
      <div className="small muted">
        trained {formatTime(card.trained_utc, ui.timeZone)}
        {card.history ? ` · history ${card.history.years} years from ${card.history.start_utc.slice(0, 10)}, ${card.history.failures.toLocaleString("en-US")} failures over ${card.history.assets.toLocaleString("en-US")} assets` : ""}
      </div>
      {ev && (
        <div className="small" data-testid="model-choice">
          chosen: <b>{ev.chosen}</b> by {ev.chosen_by}
          {margin && margin.value !== null ? `; validation AUPRC ${margin.value >= 0 ? "+" : ""}${margin.value.toFixed(3)} over ${margin.over}` : ""}
        </div>
      )}
      <table className="table small" data-testid="model-metrics">
        <thead>
          <tr>
            <th>model (test year, held-out substations)</th>
            {METRICS.map(([, l]) => (
              <th key={l}>{l}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m} className={m === ev?.chosen ? "active" : ""}>
              <td>{m}</td>
              {METRICS.map(([k]) => (
                <td key={k}>{intervalText(test[m]?.overall?.[k])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="small muted">95 % bootstrap intervals in brackets; the oracle is the true hazard (the ceiling, never served).</div>
      <CaptureChart card={card} />
      <div className="risk-charts-row" style={{ display: "flex", flexWrap: "wrap", gap: 6 }}>
        {models.map((m) => (
          <CalibrationPlot key={m} model={m} bins={test[m]?.calibration ?? []} />
        ))}
      </div>
    </div>
  );
}
