/**
 * The risk routes (`/api/risk/*`, `fluxops.api.routes.risk`). Fields another change may add (consequence,
 * risk in customer-minutes or $) are read when present: `extraFigures` lists every numeric field beyond
 * the known ones, so the UI shows them with their server name and never invents one.
 */
import { getJson, type Query } from "../../api/client";

export interface RiskAssetRow {
  asset_id: string;
  asset_type: string;
  feeder_id: string | null;
  substation_id: string | null;
  probability: number | null;
  customers_affected: number | null;
  past_failures: number | null;
  age_y: number | null;
  rank: number | null;
  [extra: string]: unknown;
}

export interface RiskPage {
  model_id: string;
  total: number;
  offset: number;
  limit: number;
  horizon: string;
  assets: RiskAssetRow[];
}

export interface RiskDriver {
  rank: number;
  feature: string;
  words: string;
  value: number | null;
  log_odds_contribution: number | null;
  direction: string | null;
}

export interface RiskAssetDetail {
  model_id: string;
  model_kind: string;
  asset: RiskAssetRow;
  drivers: RiskDriver[];
  past_failures: { failure_id: string; start_utc: string; duration_h: number | null; protective_device_id: string | null; customers_affected: number | null }[];
  [extra: string]: unknown;
}

export interface Interval {
  value: number | null;
  ci_lo: number | null;
  ci_hi: number | null;
}

export interface CalibrationBin {
  bin_lo: number;
  bin_hi?: number;
  count: number;
  mean_p: number | null;
  observed: number | null;
}

export interface ModelEval {
  overall: Record<string, Interval>;
  calibration: CalibrationBin[];
  by_type: Record<string, Record<string, Interval>>;
}

export interface ModelCard {
  model_id: string;
  kind: string;
  trained_utc: string;
  task: string;
  history?: { start_utc: string; years: number; failures: number; assets: number; n_days?: number };
  served_fit?: { years?: unknown; substations?: unknown };
  evaluation?: {
    chosen: string;
    chosen_by: string;
    validation?: Record<string, Record<string, number | null>>;
    validation_margin_auprc?: { over: string; value: number | null } | null;
    test?: Record<string, ModelEval>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface RiskModels {
  current: string | null;
  history: Record<string, unknown> | null;
  models: ModelCard[];
}

export const listRiskAssets = (q: Query) => getJson<RiskPage>("/api/risk/assets", q);
export const getRiskAsset = (id: string) => getJson<RiskAssetDetail>(`/api/risk/assets/${encodeURIComponent(id)}`);
export const getRiskModels = () => getJson<RiskModels>("/api/risk/models");

const KNOWN = new Set(["asset_id", "asset_type", "feeder_id", "substation_id", "probability", "customers_affected", "past_failures", "age_y", "rank", "lon", "lat"]);

/** The consequence a dot is sized by, in order of preference (simulated per failure). */
const CONSEQUENCE_KEYS = ["customer_minutes", "customers_interrupted", "ice_usd"];
/** The columns the ranked table shows when the server has them (the inspector shows every figure). */
export const TABLE_FIGURES = ["customer_minutes", "risk_customer_minutes_per_y", "risk_usd_per_y"];

/** Numeric and null fields beyond the known ones whose names say consequence or risk (the risk change's
 * additions), in server order; null stays null ("not computed"). */
export function extraFigures(row: Record<string, unknown>): [string, number | null][] {
  return Object.entries(row)
    .filter(([k, v]) => !KNOWN.has(k) && /consequence|risk|customer_min|interrupt|ice_|cost|usd|mwh|expected_failures/i.test(k) && (v === null || typeof v === "number"))
    .map(([k, v]) => [k, typeof v === "number" && Number.isFinite(v) ? v : null]);
}

/** The consequence to size a map dot by: the first simulated consequence with a number in the rows,
 * else null (all dots one size: not computed). */
export function consequenceKey(rows: Record<string, unknown>[]): string | null {
  const sample = rows.slice(0, 200);
  for (const k of CONSEQUENCE_KEYS) if (sample.some((r) => typeof r[k] === "number")) return k;
  for (const r of sample) for (const [k, v] of Object.entries(r)) if (/^consequence/i.test(k) && typeof v === "number") return k;
  return null;
}
