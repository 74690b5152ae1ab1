/**
 * Who the caller is (`GET /api/ui/me`): a viewer sees the operator's actions (switching, outage
 * lifecycle, dispatch, acknowledgements, simulations) disabled with the reason instead of a 403.
 */
import { createStore } from "./store";

export interface RoleState {
  /** loading: not known yet (actions wait); known: from the server; open: the server has no such route */
  state: "loading" | "known" | "open";
  role: string | null;
  canOperate: boolean;
}

export const initialRole: RoleState = { state: "loading", role: null, canOperate: false };

export const roleStore = createStore<RoleState>(initialRole);

/** Pure: from `/api/ui/me`'s body, or null when the server has no such route (actions stay open). */
export function roleFrom(body: { role?: unknown; can_operate?: unknown } | null): RoleState {
  if (body === null) return { state: "open", role: null, canOperate: true };
  const role = typeof body.role === "string" ? body.role : null;
  return { state: "known", role, canOperate: body.can_operate === true };
}

/** Why an operator action is unavailable, or null when it is allowed. */
export function operatorBlock(s: RoleState): string | null {
  if (s.state === "loading") return "Checking your role…";
  if (s.canOperate) return null;
  return `Needs the operator role; you are signed in as ${s.role ?? "an unknown role"} (read-only)`;
}
