/** Work-order lifecycle as fluxops.ops.models declares it: the next state an operator can advance to. */
export const WORK_ORDER_FLOW = ["open", "assigned", "in_progress", "completed"] as const;
export const WORK_ORDER_TYPES = ["outage_repair", "inspection", "maintenance", "replacement"] as const;
export const WORK_ORDER_PRIORITIES = ["critical", "high", "medium", "low"] as const;

export function nextStatus(status: string): string | null {
  const i = (WORK_ORDER_FLOW as readonly string[]).indexOf(status);
  return i >= 0 && i + 1 < WORK_ORDER_FLOW.length ? WORK_ORDER_FLOW[i + 1] : null;
}

/** The API action that moves a work order to `nextStatus` (POST /api/work-orders/{id}/{action}). */
export const ACTION_TO: Record<string, string> = { assigned: "assign", in_progress: "start", completed: "complete" };
