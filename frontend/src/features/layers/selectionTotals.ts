/**
 * Totals of a map selection (lasso, polygon or radius): counts by type come from the server (every
 * match is counted, even past the listed page); customers and kVA come from the map payload's own
 * columns for the listed assets. Unknown stays out: an asset with no customer figure or no rating is
 * counted as "unknown", not as zero.
 */
export interface SelectedItem {
  asset_id: string;
  asset_type: string;
  name: string;
  feeder_id: string | null;
  substation_id: string | null;
  lon: number;
  lat: number;
  distance_m: number | null;
}

export interface SelectionAnswer {
  count: number;
  by_type: Record<string, number>;
  truncated: boolean;
  items: SelectedItem[];
}

export interface SelectionTotals {
  count: number;
  byType: [string, number][];
  /** meters inside (one per customer premise), from the server's full count */
  customers: number;
  /** transformer nameplate kVA summed over the listed transformers */
  kva: number;
  /** listed transformers with no known rating */
  kvaUnknown: number;
  /** true when the list is a page of the matches: kVA covers only the listed rows */
  partial: boolean;
}

/** ratingKva(id) -> kVA, NaN or undefined when unknown. */
export function selectionTotals(a: SelectionAnswer, ratingKva: (id: string) => number | undefined): SelectionTotals {
  let kva = 0;
  let kvaUnknown = 0;
  for (const it of a.items) {
    if (it.asset_type !== "transformer") continue;
    const r = ratingKva(it.asset_id);
    if (r === undefined || !Number.isFinite(r)) kvaUnknown++;
    else kva += r;
  }
  const byType = Object.entries(a.by_type).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return { count: a.count, byType, customers: a.by_type.meter ?? 0, kva, kvaUnknown, partial: a.truncated };
}

type Pt = [number, number];

/** A drawn lasso as a GeoJSON ring: points closer than `minDeg` to the last kept one are dropped,
 * then closed. Fewer than 3 distinct points: null (nothing to select). */
export function lassoRing(points: Pt[], minDeg: number): Pt[] | null {
  const kept: Pt[] = [];
  for (const p of points) {
    const last = kept[kept.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= minDeg) kept.push(p);
  }
  if (kept.length < 3) return null;
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first[0] !== last[0] || first[1] !== last[1]) kept.push([first[0], first[1]]);
  return kept.length >= 4 ? kept : null;
}

/** Great-circle metres (haversine, mean Earth radius: the server's convention). */
export function haversineM(a: Pt, b: Pt): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A circle as a closed ring of `n` points (for drawing the radius selection). */
export function circleRing(centre: Pt, radiusM: number, n = 64): Pt[] {
  const dLat = radiusM / 111_195;
  const dLon = dLat / Math.max(1e-6, Math.cos((centre[1] * Math.PI) / 180));
  const ring: Pt[] = [];
  for (let i = 0; i <= n; i++) {
    const t = (2 * Math.PI * i) / n;
    ring.push([centre[0] + dLon * Math.cos(t), centre[1] + dLat * Math.sin(t)]);
  }
  return ring;
}
