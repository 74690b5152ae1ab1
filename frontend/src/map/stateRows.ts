/** `/api/grid/state?format=arrow` → plain columns (asset_id, status, loading_pct). */
import { tableFromIPC } from "apache-arrow";
import type { StateRows } from "../state/gridState";

export function parseStateRows(bytes: ArrayBuffer | Uint8Array): StateRows {
  const t = tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const n = t.numRows;
  const ids = t.getChild("asset_id");
  const status = t.getChild("status");
  const load = t.getChild("loading_pct");
  const out: StateRows = { asset_id: new Array<string>(n), status: new Array<string>(n), loading_pct: new Array<number | null>(n) };
  for (let i = 0; i < n; i++) {
    out.asset_id[i] = String(ids?.get(i) ?? "");
    out.status[i] = String(status?.get(i) ?? "");
    const v: unknown = load?.get(i);
    out.loading_pct[i] = typeof v === "number" && Number.isFinite(v) ? v : null;
  }
  return out;
}
