/**
 * Switching and what-if: the narrow shapes of `/api/devices/{id}/switching`, `/api/switching/…` and
 * `/api/cascade/compare` (their routes answer untyped dicts, so the generated schema has no bodies for
 * them), and the pure rules the panels use: which assets are switching devices, how a check reads,
 * which order transitions a status allows, parsing typed steps, and the compare table.
 */

/** `fluxops.grid.models.DEVICE_TYPES`: every one can be opened and closed. */
export const SWITCHING_DEVICE_TYPES = ["breaker", "recloser", "sectionalizer", "fuse", "switch", "tie_switch", "bus_tie", "tie"] as const;

export function isSwitchingDevice(assetType: string | null | undefined): boolean {
  return !!assetType && (SWITCHING_DEVICE_TYPES as readonly string[]).includes(assetType);
}

export type SwitchAction = "open" | "close";
export type SwitchState = "open" | "closed";

export interface Overload {
  element_id: string;
  element_type: string;
  loading_pct: number | null;
  before_pct: number | null;
}

export interface StepCheck {
  step: number;
  device_id: string;
  action: string;
  ok: boolean;
  problems: string[];
  converged: boolean;
  customers_without_supply: number;
  customers_interrupted: number;
  critical_islanded: string[];
  critical_islanded_count: number;
  overloads: Overload[];
  max_loading_pct: number | null;
  min_v_pu: number | null;
}

export interface SwitchingCheck {
  ok: boolean;
  failed_step: number | null;
  steps: StepCheck[];
  load_multiplier: number;
}

export interface SwitchOperation {
  op_id: string;
  device_id: string;
  action: string;
  from_state: string;
  to_state: string;
  changed_by: string;
  reason: string;
  at_utc: string;
  order_id: string | null;
  forced: boolean;
}

export interface DeviceSwitching {
  device_id: string;
  device_type: string;
  normal_state: string;
  state: string;
  off_normal: boolean;
  operations: SwitchOperation[];
}

export interface OffNormal {
  device_id: string;
  device_type: string;
  normal_state: string;
  state: string;
}

export interface SwitchingStates {
  configuration_hash: string;
  off_normal: OffNormal[];
}

export interface OrderStep {
  step?: number;
  device_id: string;
  action: SwitchAction;
}

export type OrderStatus = "draft" | "approved" | "executed" | "cancelled";

export interface SwitchingOrder {
  order_id: string;
  title: string;
  reason: string;
  status: OrderStatus;
  steps: OrderStep[];
  load_multiplier: number;
  created_by: string;
  created_utc: string;
  approved_by: string | null;
  approved_utc: string | null;
  executed_by: string | null;
  executed_utc: string | null;
  cancelled_by: string | null;
  cancelled_utc: string | null;
  validation: Partial<SwitchingCheck>;
}

export interface ProposedState {
  device_id: string;
  state: SwitchState;
}

export interface CompareFigures {
  customers_out: number;
  peak_customers_out: number;
  critical_out: number;
  customer_minutes: number;
  mwh_unserved: number;
  cost_usd: number;
  overloaded_elements: string[];
}

export interface CompareSideOut {
  label: string;
  configuration_hash: string;
  switch_states: ProposedState[];
  figures: CompareFigures;
}

export interface CompareOut {
  a: CompareSideOut;
  b: CompareSideOut;
  difference_b_minus_a: Record<string, number | string[]>;
}

// --- states and checks ---------------------------------------------------------------------------

/** "Open — operated, normally closed" / "Closed (normal)". */
export function stateText(state: string, normal: string): string {
  const cap = state ? state[0].toUpperCase() + state.slice(1) : "—";
  return state === normal ? `${cap} (normal)` : `${cap} — operated, normally ${normal}`;
}

/** The action that moves a device away from `state`. */
export function actionFor(state: string): SwitchAction {
  return state === "open" ? "close" : "open";
}

function isCheck(v: unknown): v is SwitchingCheck {
  return !!v && typeof v === "object" && typeof (v as SwitchingCheck).ok === "boolean" && Array.isArray((v as SwitchingCheck).steps);
}

/** The step-by-step check an error body carries: `details.check` (operate, 409) or `details.validation` (orders). */
export function checkFromDetails(details: unknown): SwitchingCheck | null {
  if (!details || typeof details !== "object") return null;
  const d = details as Record<string, unknown>;
  if (isCheck(d.check)) return d.check;
  if (isCheck(d.validation)) return d.validation;
  return null;
}

export interface CheckReading {
  ok: boolean;
  /** one line: "Passes: 2 steps checked" / "Refused at step 1 (close TIE-00002)" */
  headline: string;
  /** the failing step's problems, in the server's words */
  problems: string[];
  /** per step: what it does to supply and loading */
  steps: string[];
}

function pct(v: number | null): string {
  return v === null || !Number.isFinite(v) ? "—" : `${v.toFixed(1)} %`;
}

export function readCheck(check: SwitchingCheck): CheckReading {
  const failed = check.failed_step !== null ? check.steps[check.failed_step - 1] : undefined;
  const n = check.steps.length;
  const headline = check.ok
    ? `Passes the check: ${n} step${n === 1 ? "" : "s"} at ${check.load_multiplier} × design peak`
    : failed
      ? `Refused at step ${failed.step} (${failed.action} ${failed.device_id})`
      : "Refused";
  const steps = check.steps.map(
    (s) =>
      `Step ${s.step}: ${s.action} ${s.device_id} — ${s.ok ? "OK" : "fails"}; ` +
      `${s.customers_interrupted.toLocaleString("en-US")} customers interrupted, ` +
      `${s.critical_islanded_count} critical without supply, highest loading ${pct(s.max_loading_pct)}` +
      (s.overloads.length ? `, ${s.overloads.length} overloaded` : ""),
  );
  return { ok: check.ok, headline, problems: failed ? failed.problems : [], steps };
}

// --- orders ---------------------------------------------------------------------------------------

export type OrderAction = "validate" | "approve" | "execute" | "cancel";

/** The transitions (and the re-check) a status allows; executed and cancelled orders are final. */
export function orderActions(status: string): OrderAction[] {
  if (status === "draft") return ["validate", "approve", "cancel"];
  if (status === "approved") return ["validate", "execute", "cancel"];
  return [];
}

export const ORDER_ACTION_LABELS: Record<OrderAction, string> = {
  validate: "Re-check",
  approve: "Approve",
  execute: "Execute",
  cancel: "Cancel",
};

export const ORDER_STATUS_LABELS: Record<string, string> = {
  draft: "Draft",
  approved: "Approved",
  executed: "Executed",
  cancelled: "Cancelled",
};

export interface Parsed<T> {
  items: T[];
  errors: string[];
}

const ACTION_WORDS: Record<string, SwitchAction> = { open: "open", close: "close", closed: "close" };
const STATE_WORDS: Record<string, SwitchState> = { open: "open", close: "closed", closed: "closed" };

function lines(text: string): string[] {
  return text
    .split(/[\n;,]+/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function words(line: string): [string, string] | null {
  const parts = line.split(/\s+/);
  if (parts.length !== 2) return null;
  const [x, y] = parts;
  // "open FUS-1" or "FUS-1 open"
  if (x.toLowerCase() in ACTION_WORDS) return [x.toLowerCase(), y];
  if (y.toLowerCase() in ACTION_WORDS) return [y.toLowerCase(), x];
  return null;
}

/** Steps typed one a line (or separated by ; or ,): "open FUS-0001-02-00011", "close TIE-00002". */
export function parseSteps(text: string): Parsed<OrderStep> {
  const items: OrderStep[] = [];
  const errors: string[] = [];
  lines(text).forEach((l, i) => {
    const w = words(l);
    if (!w) errors.push(`line ${i + 1} "${l}": write "open DEVICE" or "close DEVICE"`);
    else items.push({ device_id: w[1], action: ACTION_WORDS[w[0]] });
  });
  return { items, errors };
}

/** A proposed configuration typed one a line: "open FUS-1", "closed TIE-2" (close = closed). */
export function parseSwitchStates(text: string): Parsed<ProposedState> {
  const items: ProposedState[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  lines(text).forEach((l, i) => {
    const w = words(l);
    if (!w) errors.push(`line ${i + 1} "${l}": write "open DEVICE" or "closed DEVICE"`);
    else if (seen.has(w[1])) errors.push(`line ${i + 1}: ${w[1]} is listed twice`);
    else {
      seen.add(w[1]);
      items.push({ device_id: w[1], state: STATE_WORDS[w[0]] });
    }
  });
  return { items, errors };
}

/** Patient zeros typed as ids separated by commas or spaces. */
export function parseIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((x) => x.length > 0))];
}

// --- compare --------------------------------------------------------------------------------------

export interface CompareRow {
  key: keyof Omit<CompareFigures, "overloaded_elements">;
  label: string;
  unit: string;
  a: number | null;
  b: number | null;
  diff: number | null;
  /** which side is better (lower) on this figure; null when equal or unknown */
  better: "a" | "b" | null;
}

const FIGURES: [CompareRow["key"], string, string][] = [
  ["customers_out", "Customers out (end)", "customers"],
  ["peak_customers_out", "Customers out (peak)", "customers"],
  ["critical_out", "Critical customers out", "customers"],
  ["customer_minutes", "Customer-minutes", "cust-min"],
  ["mwh_unserved", "Energy unserved", "MWh"],
  ["cost_usd", "Cost", "USD"],
];

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function compareRows(out: CompareOut): CompareRow[] {
  return FIGURES.map(([key, label, unit]) => {
    const a = finiteOrNull(out.a.figures[key]);
    const b = finiteOrNull(out.b.figures[key]);
    const d = finiteOrNull(out.difference_b_minus_a[key]) ?? (a !== null && b !== null ? b - a : null);
    const better = d === null || d === 0 ? null : d < 0 ? "b" : "a";
    return { key, label, unit, a, b, diff: d, better };
  });
}

export interface OverloadDiff {
  onlyA: string[];
  onlyB: string[];
  both: string[];
}

export function overloadDiff(out: CompareOut): OverloadDiff {
  const list = (k: string): string[] => {
    const v = out.difference_b_minus_a[k];
    return Array.isArray(v) ? v : [];
  };
  return { onlyA: list("overloaded_only_a"), onlyB: list("overloaded_only_b"), both: list("overloaded_both") };
}

/** A signed difference with its unit: "+1,234 cust-min", "−21 customers", "no change". */
export function signedFigure(v: number | null, unit: string, digits = 0): string {
  if (v === null) return "—";
  if (v === 0) return "no change";
  const abs = Math.abs(v).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return `${v > 0 ? "+" : "−"}${abs} ${unit}`;
}

/** Digits a figure is shown with (MWh keeps two, cost and counts none). */
export function digitsFor(key: CompareRow["key"]): number {
  return key === "mwh_unserved" ? 2 : 0;
}

// --- what-if power flow and N-1 ---------------------------------------------------------------------

export interface FlowSummary {
  configuration_hash: string;
  converged: boolean;
  loops: number;
  max_loading_pct: number | null;
  min_v_pu: number | null;
  losses_kw: number;
  customers_without_supply: number;
  critical_without_supply: string[];
  critical_without_supply_count: number;
  overloaded_count: number;
  overloaded: { element_id: string; element_type: string; loading_pct: number }[];
}

export interface WhatIfFlowOut {
  scenario: string;
  live: FlowSummary;
  proposed: FlowSummary;
  difference: Record<string, number>;
}

export interface NMinus1Out {
  configuration_hash: string;
  scenario: string;
  substations: string[];
  contingencies: number;
  contingencies_with_overload: number;
  contingencies_with_critical_out: number;
  worst: {
    element_id: string;
    customers_out: number;
    critical_out: number;
    unserved_kw: number;
    max_loading_pct: number | null;
    worst_element: string | null;
    min_v_pu: number | null;
    converged: boolean;
  }[];
}

export interface FlowRow {
  key: string;
  label: string;
  unit: string;
  digits: number;
  live: number | null;
  proposed: number | null;
  diff: number | null;
}

const FLOW_FIGURES: [keyof FlowSummary, string, string, number][] = [
  ["customers_without_supply", "Customers without supply", "customers", 0],
  ["critical_without_supply_count", "Critical customers without supply", "customers", 0],
  ["overloaded_count", "Overloaded elements (> 100 %)", "elements", 0],
  ["max_loading_pct", "Highest loading", "%", 1],
  ["min_v_pu", "Lowest voltage", "pu", 3],
  ["losses_kw", "Losses", "kW", 1],
  ["loops", "Loops", "loops", 0],
];

/** The live and the proposed configuration's power flow, figure by figure, with proposed − live. */
export function flowRows(out: WhatIfFlowOut): FlowRow[] {
  return FLOW_FIGURES.map(([key, label, unit, digits]) => {
    const live = finiteOrNull(out.live[key]);
    const proposed = finiteOrNull(out.proposed[key]);
    const diff = finiteOrNull(out.difference[key]) ?? (live !== null && proposed !== null ? proposed - live : null);
    return { key, label, unit, digits, live, proposed, diff };
  });
}
