/**
 * What a substation disc says about outages, honestly aggregated: the customers its active outages
 * leave without supply and their share of the customers it serves (not the worst status of anything
 * under it: a 6-customer fuse outage is 0.07 % of an 8,677-customer substation, not a dark disc).
 * Pure: outage records and customer counts in, arrays per substation row out.
 */
import type { OutageItem } from "../state/outages";

export interface SubstationOutages {
  /** customers without supply per substation row (sum of its active outages' customers_out) */
  customersOut: Float64Array;
  /** customersOut / customers served, 0..1; 0 where the served count is unknown */
  share: Float32Array;
  /** active outages per substation row */
  outages: Int32Array;
}

/**
 * `rowSubstation[j]` is the substation id of disc j, `served[j]` its customers (NaN: unknown).
 * Nested outages (a smaller one inside a larger, `parent_outage_id`) are counted once, by the parent.
 */
export function substationOutages(rowSubstation: readonly string[], served: ArrayLike<number>, outages: readonly OutageItem[]): SubstationOutages {
  const n = rowSubstation.length;
  const index = new Map<string, number>();
  rowSubstation.forEach((id, j) => index.set(id, j));
  const open = new Set(outages.map((o) => o.outage_id));
  const customersOut = new Float64Array(n);
  const count = new Int32Array(n);
  for (const o of outages) {
    const parent = typeof o.parent_outage_id === "string" ? o.parent_outage_id : null;
    if (parent && open.has(parent)) continue;
    const j = o.substation_id ? index.get(String(o.substation_id)) : undefined;
    if (j === undefined) continue;
    customersOut[j] += Math.max(0, Number(o.customers_out ?? 0) || 0);
    count[j] += 1;
  }
  const share = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const s = served[j];
    share[j] = Number.isFinite(s) && s > 0 ? Math.min(1, customersOut[j] / s) : 0;
  }
  return { customersOut, share, outages: count };
}

/** Short count for a map badge: 6, 950, 1.2k, 12k. */
export function badgeText(customersOut: number): string {
  if (customersOut < 1000) return String(Math.round(customersOut));
  if (customersOut < 10_000) return `${(customersOut / 1000).toFixed(1)}k`;
  return `${Math.round(customersOut / 1000)}k`;
}

/** Radius (px) of the inner "out" disc: its area is the share of the outer disc's area; at least 2 px so a small outage stays visible. */
export function outRadiusPx(outerPx: number, share: number): number {
  if (!(share > 0)) return 0;
  return Math.min(outerPx, Math.max(2, outerPx * Math.sqrt(share)));
}
