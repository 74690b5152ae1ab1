/**
 * Reading two cascade analysis answers for people: the hardening ROI (`/api/cascade/compare-mitigations`,
 * whose `best_set` holds indices into `investments`) as named investments, and the restoration plan's
 * milestones with a note when they cannot differ. Pure, so the wording is tested once.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export const MEASURE_LABELS: Record<string, string> = {
  automate_switches: "Automate the section's switches",
  new_tie: "New normally-open tie",
  recloser: "Recloser",
  underground: "Underground the segment",
  transformer_upgrade: "Upgrade the substation transformer",
};

export interface InvestmentRow {
  key: string;
  name: string; // "New normally-open tie for FDR-0001-01"
  description: string; // what is changed or installed
  elementId: string;
  costUsd: number | null;
  npvUsd: number | null;
  roiPct: number | null;
  paybackYears: number | null;
  customerMinutesAvoided: number | null;
  chosen: boolean;
}

function describe(measure: string, assets: string[]): string {
  if (assets.length === 0) return "";
  if (measure === "new_tie") return `tie ${assets.map((a) => a.replace("<->", " ↔ ")).join(", ")}`;
  if (measure === "automate_switches") return `switches ${assets.join(", ")}`;
  if (measure === "recloser") return `switch ${assets.join(", ")} becomes a recloser`;
  if (measure === "underground") return `segment ${assets.join(", ")}`;
  if (measure === "transformer_upgrade") return `transformer ${assets.join(", ")}`;
  return assets.join(", ");
}

/** The investments of a compare-mitigations answer (the body, or its `result`), each named. */
export function investmentRows(body: unknown): InvestmentRow[] {
  const res = isObj(body) && isObj(body.result) ? body.result : body;
  if (!isObj(res) || !Array.isArray(res.investments)) return [];
  const chosen = new Set(Array.isArray(res.best_set) ? res.best_set.filter((i): i is number => typeof i === "number") : []);
  return res.investments.filter(isObj).map((inv, i) => {
    const measure = String(inv.measure ?? "");
    const element = String(inv.element_id ?? "");
    const assets = Array.isArray(inv.asset_ids) ? inv.asset_ids.map(String) : [];
    return {
      key: `${measure}:${element}:${i}`,
      name: `${MEASURE_LABELS[measure] ?? measure.replace(/_/g, " ")} for ${element}`,
      description: describe(measure, assets),
      elementId: element,
      costUsd: num(inv.cost_usd),
      npvUsd: num(inv.npv_usd),
      roiPct: num(inv.roi_pct),
      paybackYears: num(inv.payback_years),
      customerMinutesAvoided: num(inv.expected_customer_minutes_avoided),
      chosen: chosen.has(i),
    };
  });
}

export interface Milestone {
  pct: number;
  timeMin: number;
  customers: number;
}

export interface RestorationSummary {
  milestones: Milestone[];
  steps: number;
  improvementPct: number | null;
  /** why the milestones or the improvement read as they do, when it is not obvious; null otherwise */
  note: string | null;
}

const fmtMin = (m: number) => (m >= 120 ? `${(m / 60).toFixed(m % 60 === 0 ? 0 : 1)} h` : `${Math.round(m)} min`);

/** Milestones and improvement of a restoration-sequence answer, with the reason when all milestones
 * coincide (one repair brings everyone back) or the priority order gains nothing over the naive one. */
export function restorationSummary(body: unknown): RestorationSummary | null {
  const plan = isObj(body) && isObj(body.plan) ? body.plan : null;
  if (!plan) return null;
  const steps = Array.isArray(plan.steps) ? plan.steps.filter(isObj) : [];
  const milestones: Milestone[] = (Array.isArray(plan.milestones) ? plan.milestones.filter(isObj) : []).map((m) => ({
    pct: num(m.pct) ?? 0,
    timeMin: num(m.time_min) ?? 0,
    customers: num(m.customers_restored) ?? 0,
  }));
  const improvementPct = num(plan.improvement_pct);
  let note: string | null = null;
  const distinct = new Set(milestones.map((m) => m.timeMin)).size;
  if (steps.length === 1) {
    const s = steps[0];
    const what = `${String(s.element_type ?? "element").replace(/_/g, " ")} ${String(s.element_id ?? "")}`.trim();
    const h = num(s.repair_h);
    note =
      `One repair brings every customer back: ${what}${h !== null ? ` (${h} h of work` : ""}${h !== null ? `, done at ${fmtMin(num(s.restored_min) ?? 0)})` : ""}. ` +
      "Every milestone is that moment, and with a single step there is no order to improve, so the priority plan equals the naive one (0 % improvement).";
  } else if (milestones.length > 1 && distinct === 1) {
    note = "Every customer comes back with the last repair (the earlier steps restore no one on their own), so all milestones coincide.";
  } else if (steps.length > 1 && improvementPct !== null && improvementPct === 0) {
    note = "The priority order (critical facilities and customers per hour of work first) is the same as the naive order here, so it gains nothing.";
  }
  return { milestones, steps: steps.length, improvementPct, note };
}
