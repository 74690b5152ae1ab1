/**
 * Colour scales of the geo layers and the H3 heat layer, with their legends. Pure: tested without a
 * browser. Unknown stays unknown: a missing value gets the grey "no data" colour, never a scale colour.
 */
export type Rgba = [number, number, number, number];

export const NO_DATA: Rgba = [100, 116, 139, 160];

/** Months to encroachment, soonest first: the bands a trim planner reads (now, this year, next, later). */
export const ENCROACHMENT_BANDS: { upTo: number; colour: Rgba; label: string }[] = [
  { upTo: 0, colour: [220, 38, 38, 230], label: "encroaching now" },
  { upTo: 12, colour: [249, 115, 22, 230], label: "≤ 12 months" },
  { upTo: 24, colour: [234, 179, 8, 220], label: "12–24 months" },
  { upTo: 60, colour: [132, 204, 22, 200], label: "24–60 months" },
  { upTo: Number.POSITIVE_INFINITY, colour: [34, 197, 94, 170], label: "> 60 months" },
];

/** Colour of a span by months to encroachment; null/NaN (no tree within reach in the horizon): no data. */
export function encroachmentColour(months: number | null | undefined): Rgba {
  if (months === null || months === undefined || !Number.isFinite(months)) return NO_DATA;
  for (const b of ENCROACHMENT_BANDS) if (months <= b.upTo) return b.colour;
  return ENCROACHMENT_BANDS[ENCROACHMENT_BANDS.length - 1].colour;
}

/** A sequential ramp (dark blue → yellow → red) for heat layers; t in [0, 1]. */
const RAMP: [number, number, number][] = [
  [30, 64, 175],
  [56, 189, 248],
  [250, 204, 21],
  [249, 115, 22],
  [220, 38, 38],
];

export function rampColour(t: number, alpha = 170): Rgba {
  if (!Number.isFinite(t)) return NO_DATA;
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i];
  const b = RAMP[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f), alpha];
}

/** The H3 metrics the layer offers: server metric name, label and unit. */
export interface H3Metric {
  key: string;
  label: string;
  unit: string;
  /** decimals shown in the legend */
  digits: number;
}

export const H3_METRICS: H3Metric[] = [
  { key: "outage_customers", label: "Customers out", unit: "customers", digits: 0 },
  { key: "load_kw", label: "Design load", unit: "kW", digits: 0 },
  { key: "customers", label: "Customers", unit: "customers", digits: 0 },
  { key: "risk", label: "Risk (expected failures, next 12 months)", unit: "failures / yr", digits: 2 },
];

export function h3Metric(key: string): H3Metric {
  return H3_METRICS.find((m) => m.key === key) ?? H3_METRICS[0];
}

/** Square-root scaling: a few very large cells would otherwise leave every other cell at the bottom. */
export function heatT(value: number, max: number): number {
  if (!(max > 0) || !Number.isFinite(value)) return Number.NaN;
  return Math.sqrt(Math.max(0, value) / max);
}

export interface LegendStop {
  colour: Rgba;
  label: string;
}

/** Legend for a heat layer: 0, ¼, ½, ¾ and the maximum (square-root scale), each with the unit. */
export function heatLegend(max: number, metric: H3Metric, cellAreaKm2: number | null): LegendStop[] {
  if (!(max > 0)) return [];
  const fmt = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: metric.digits, minimumFractionDigits: metric.digits });
  const area = cellAreaKm2 ? ` per cell (${cellAreaKm2.toLocaleString("en-US", { maximumFractionDigits: 3 })} km²)` : " per cell";
  return [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const v = max * t * t; // inverse of the square-root scale
    return { colour: rampColour(t), label: `${fmt(v)} ${metric.unit}${t === 1 ? area : ""}` };
  });
}

/** Risk colour by probability of failure in the next 12 months (0 → green, ≥ `top` → red). */
export function riskColour(p: number | null | undefined, top: number): Rgba {
  if (p === null || p === undefined || !Number.isFinite(p)) return NO_DATA;
  return rampColour(top > 0 ? Math.min(1, p / top) : 0, 220);
}

export const rgbaCss = (c: Rgba) => `rgba(${c[0]},${c[1]},${c[2]},${(c[3] / 255).toFixed(2)})`;
