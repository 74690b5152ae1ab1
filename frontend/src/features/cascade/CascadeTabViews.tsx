/** Readable views of two analysis answers: the hardening ROI as named investments, and the restoration
 * milestones with the reason when they all read the same. */
import { fmt } from "../../api/endpoints";
import { investmentRows, restorationSummary } from "./cascadeViews";

export function RoiTable({ body }: { body: unknown }) {
  const rows = investmentRows(body);
  if (rows.length === 0) return <div className="notice">No investment found for these elements (no measure applies to them).</div>;
  const chosen = rows.filter((r) => r.chosen);
  return (
    <>
      <div className="muted small" data-testid="roi-best-set">
        Best set within the budget: {chosen.length ? chosen.map((r) => r.name).join("; ") : "none (no investment has a positive net present value)"}
      </div>
      <table className="data small" data-testid="roi-table">
        <thead>
          <tr>
            <th>investment</th>
            <th>what</th>
            <th>cost $</th>
            <th>NPV $</th>
            <th>ROI %</th>
            <th>payback y</th>
            <th>cust-min avoided</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} className={r.chosen ? "selected" : ""} data-testid="roi-row">
              <td>
                {r.chosen ? "✓ " : ""}
                {r.name}
              </td>
              <td className="muted">{r.description}</td>
              <td>{fmt(r.costUsd)}</td>
              <td>{fmt(r.npvUsd)}</td>
              <td>{fmt(r.roiPct, 1)}</td>
              <td>{r.paybackYears === null ? "never" : fmt(r.paybackYears, 1)}</td>
              <td>{fmt(r.customerMinutesAvoided)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function RestorationView({ body }: { body: unknown }) {
  const s = restorationSummary(body);
  if (!s) return null;
  return (
    <div data-testid="restoration-view">
      <table className="data small">
        <thead>
          <tr>
            <th>customers back</th>
            <th>after</th>
            <th>customers</th>
          </tr>
        </thead>
        <tbody>
          {s.milestones.map((m) => (
            <tr key={m.pct}>
              <td>{fmt(m.pct)} %</td>
              <td>{fmt(m.timeMin)} min</td>
              <td>{fmt(m.customers)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="muted small">
        {s.steps} repair step{s.steps === 1 ? "" : "s"} · improvement over the naive order {s.improvementPct === null ? "—" : `${fmt(s.improvementPct, 1)} %`}
      </div>
      {s.note && (
        <div className="notice" data-testid="restoration-note">
          {s.note}
        </div>
      )}
    </div>
  );
}
