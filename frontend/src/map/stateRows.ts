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

/** The server's STATUS_CODES order, when the stream's schema metadata does not name it. */
const STATUS_CODES = ["normal", "warning", "critical", "out"];

/**
 * `/api/grid/state?format=compact` → plain columns. Status arrives as an int8 index into the codes
 * named in the schema metadata (`status_codes`); loading as float32 (null: unknown).
 */
export function parseCompactRows(bytes: ArrayBuffer | Uint8Array): StateRows {
  const t = tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const codes = t.schema.metadata.get("status_codes")?.split(",") ?? STATUS_CODES;
  const n = t.numRows;
  const ids = t.getChild("asset_id");
  const status = t.getChild("status");
  const load = t.getChild("loading_pct");
  const out: StateRows = { asset_id: new Array<string>(n), status: new Array<string>(n), loading_pct: new Array<number | null>(n) };
  for (let i = 0; i < n; i++) {
    out.asset_id[i] = String(ids?.get(i) ?? "");
    const code: unknown = status?.get(i);
    out.status[i] = typeof code === "number" ? (codes[code] ?? "normal") : "normal";
    const v: unknown = load?.get(i);
    out.loading_pct[i] = typeof v === "number" && Number.isFinite(v) ? v : null;
  }
  return out;
}
