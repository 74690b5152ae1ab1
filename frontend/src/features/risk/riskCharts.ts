/**
 * Pure geometry of the risk charts (inline SVG): the calibration plot (predicted vs observed share per
 * bin, the diagonal is perfect calibration) and the top-10 % capture bars with their 95 % intervals.
 * Bins with no observed share are left out (unknown is not zero).
 */
import type { CalibrationBin, Interval, ModelCard } from "./riskApi";

export interface CalPoint {
  x: number;
  y: number;
  count: number;
  p: number;
  observed: number;
}

/** Calibration points scaled to a `size`-pixel square with `pad` margin; both axes span 0..max. */
export function calibrationPoints(bins: CalibrationBin[], size: number, pad: number): { points: CalPoint[]; max: number } {
  const ok = bins.filter((b) => b.mean_p !== null && b.observed !== null && Number.isFinite(b.mean_p) && Number.isFinite(b.observed));
  const max = Math.max(0.05, ...ok.map((b) => Math.max(b.mean_p!, b.observed!)));
  const span = size - 2 * pad;
  const points = ok.map((b) => ({
    x: pad + (b.mean_p! / max) * span,
    y: size - pad - (b.observed! / max) * span,
    count: b.count,
    p: b.mean_p!,
    observed: b.observed!,
  }));
  return { points, max };
}

export interface CaptureBar {
  model: string;
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/** The test year's top-10 % capture of every evaluated model, oracle last (the ceiling). */
export function captureBars(card: ModelCard): CaptureBar[] {
  const test = card.evaluation?.test ?? {};
  const names = Object.keys(test).sort((a, b) => (a === "oracle" ? 1 : b === "oracle" ? -1 : a.localeCompare(b)));
  return names.map((m) => {
    const iv: Interval | undefined = test[m]?.overall?.top10_capture;
    return { model: m, value: iv?.value ?? null, lo: iv?.ci_lo ?? null, hi: iv?.ci_hi ?? null };
  });
}

/** "0.32 (0.24–0.41)"; a missing value: "—". */
export function intervalText(iv: Interval | undefined, digits = 3): string {
  if (!iv || iv.value === null || iv.value === undefined) return "—";
  const f = (v: number) => v.toFixed(digits);
  return iv.ci_lo !== null && iv.ci_hi !== null ? `${f(iv.value)} (${f(iv.ci_lo)}–${f(iv.ci_hi)})` : f(iv.value);
}

export const METRICS: [string, string][] = [
  ["auprc", "AUPRC"],
  ["roc_auc", "ROC AUC"],
  ["brier", "Brier"],
  ["ece", "ECE"],
  ["top10_capture", "Top-10 % capture"],
];
