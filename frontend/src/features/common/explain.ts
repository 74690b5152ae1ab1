/**
 * Plain-language explanations of two figures the console shows: the real-time risk index (its terms,
 * weights and the inputs behind each, from `GET /api/cascade/realtime-risk`) and storm mode (the rule
 * from the outage KPIs' `storm_rule`). Pure, so the wording is tested once.
 */
type Obj = Record<string, unknown>;

export interface RiskTermRow {
  term: string;
  label: string;
  value: number; // 0..1
  weight: number;
  points: number; // weight · value · 100, this term's share of the index
  basis: string;
}

const n = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const f = (v: unknown, d = 0): string => {
  const x = n(v);
  return x === null ? "?" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
};

const LABELS: Record<string, string> = {
  loading: "Transformer loading",
  thermal: "Substation thermal",
  outages: "Customers out",
  n1: "N-1 margin",
};

function basis(term: string, i: Obj): string {
  switch (term) {
    case "loading":
      return `${f(i.transformers_over_warning)} of ${f(i.transformers_with_loading)} distribution transformers above 80 % of nameplate (load: ${String(i.load_source ?? "?")})`;
    case "thermal":
      return `${f(i.substation_transformers_over_hot_spot_ref)} substation transformers with an IEEE C57.91 hot spot above 110 °C (max ${f(i.max_hot_spot_c, 1)} °C at ${f(i.ambient_c, 1)} °C ambient, ${String(i.ambient_source ?? "?").replace(/_/g, " ")})`;
    case "outages":
      return `${f(i.customers_out)} of ${f(i.customers_total)} customers out; the term is full at 5 % out`;
    case "n1":
      return `${f(i.n1_load_at_risk_mva, 1)} of ${f(i.substation_load_mva, 1)} MVA could not be carried after losing each substation's largest transformer (ties counted); ${f(i.substations_without_n1_margin)} substations short, ${f(i.substations_secured_by_ties)} secured by ties`;
    default:
      return "";
  }
}

/** One row per term: its value (0–1), weight and the points it adds (index = Σ points). */
export function riskTerms(d: unknown): RiskTermRow[] {
  if (typeof d !== "object" || d === null) return [];
  const o = d as Obj;
  const terms = (o.terms ?? {}) as Obj;
  const weights = (o.weights ?? {}) as Obj;
  const inputs = (o.inputs ?? {}) as Obj;
  return Object.keys(terms).map((t) => {
    const value = n(terms[t]) ?? 0;
    const weight = n(weights[t]) ?? 0;
    return { term: t, label: LABELS[t] ?? t, value, weight, points: 100 * weight * value, basis: basis(t, inputs) };
  });
}

export const RISK_LEVELS_TEXT = "0–100 = 100 · Σ weight · term; ELEVATED ≥ 30, HIGH ≥ 50, CRITICAL ≥ 70.";

/** "Storm mode: 5 or more feeders each with 2+ last-gasps within 15 min …" */
export function stormExplanation(rule: unknown, on: boolean): string {
  const r = (typeof rule === "object" && rule !== null ? rule : {}) as Obj;
  const feeders = n(r.min_feeders) ?? 5;
  const win = n(r.window_min) ?? 15;
  const reports = n(r.min_reports_per_feeder) ?? 2;
  const what = `Storm mode turns on when ${feeders} or more feeders each have ${reports}+ last-gasps within ${f(win, 1)} min (weather hitting many feeders at once, not one big lockout); last-gasps are then batched and outages predicted in larger steps. It ends by itself once the reports stop.`;
  return on ? `Storm mode is ON. ${what}` : what;
}
