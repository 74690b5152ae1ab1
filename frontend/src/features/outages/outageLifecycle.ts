/**
 * Which operator actions an outage allows now (the OMS states of fluxops.ops.models): acknowledge
 * once, confirm a proposal, restore an open outage, cancel a proposal that was no outage. Pure, so the rules are tested without a browser.
 */
export type OutageAction = "acknowledge" | "confirm" | "restore" | "cancel";

export interface LifecycleFields {
  status: string;
  acknowledged_utc?: unknown;
  /** the outage's repair work order is completed: the server proposes the restore, the operator confirms */
  restore_proposed?: unknown;
  repair_work_order_id?: unknown;
}

/** The restore button's label: "Confirm restore" once the repair is reported complete. */
export function actionLabel(o: LifecycleFields, a: OutageAction): string {
  return a === "restore" && o.restore_proposed === true ? "Confirm restore" : ACTION_LABELS[a];
}

export function allowedActions(o: LifecycleFields): OutageAction[] {
  const status = String(o.status).toLowerCase();
  if (status !== "proposed" && status !== "confirmed") return [];
  const out: OutageAction[] = [];
  if (!o.acknowledged_utc) out.push("acknowledge");
  if (status === "proposed") out.push("confirm");
  out.push("restore");
  if (status === "proposed") out.push("cancel"); // no outage after all (false last-gasps)
  return out;
}

export const ACTION_LABELS: Record<OutageAction, string> = {
  acknowledge: "Acknowledge",
  confirm: "Confirm",
  restore: "Restore",
  cancel: "Cancel (no outage)",
};

/**
 * Where an ETR comes from, in words (the API's `etr_basis`: the median restoration time of `n`
 * restored outages of the same device type, kind, or all): "median of 12 past fuse outages".
 */
export function etrSource(basis: unknown): string {
  if (!basis || typeof basis !== "object") return "no estimate: too few restored outages on record";
  const b = basis as { by?: unknown; value?: unknown; n?: unknown };
  const n = typeof b.n === "number" ? b.n : null;
  const what = b.by === "all" ? "outages" : `${String(b.value ?? "").replace(/_/g, " ")} outages`;
  return `median of ${n ?? "?"} past ${what}`;
}
