/**
 * Status classes and the two palettes. The default is a traffic-light ramp; the colour-blind-safe
 * option uses the Okabe–Ito set (Okabe & Ito, "Color Universal Design", 2008), distinguishable
 * under protanopia, deuteranopia and tritanopia.
 */
export type Rgba = [number, number, number, number];

export const STATUS = {
  unknown: 0,
  normal: 1,
  elevated: 2,
  high: 3,
  overload: 4,
  out: 5,
  voltage: 6,
} as const;
export type StatusCode = (typeof STATUS)[keyof typeof STATUS];

export const STATUS_LABELS: Record<StatusCode, string> = {
  0: "no load data",
  1: "loading < 60 %",
  2: "loading 60–80 %",
  3: "loading 80–100 %",
  4: "overloaded ≥ 100 %",
  5: "de-energized (out)",
  6: "voltage violation",
};

/** Severity order used to pick the worst status of a group (e.g. a substation's assets). */
export const SEVERITY: Record<StatusCode, number> = { 0: 0, 1: 1, 2: 2, 3: 3, 6: 4, 4: 5, 5: 6 };

export type PaletteName = "default" | "colorblind";
/** "simulation": the live map greyed under a cascade simulation, so only the simulated waves carry colour. */
export type MapPalette = PaletteName | "simulation";

export const PALETTES: Record<MapPalette, Record<StatusCode, Rgba>> = {
  default: {
    0: [100, 116, 139, 200],
    1: [34, 197, 94, 230],
    2: [234, 179, 8, 230],
    3: [249, 115, 22, 240],
    4: [239, 68, 68, 255],
    5: [217, 70, 239, 255],
    6: [56, 189, 248, 255],
  },
  colorblind: {
    0: [136, 136, 136, 200],
    1: [0, 114, 178, 230], // blue
    2: [86, 180, 233, 230], // sky blue
    3: [230, 159, 0, 240], // orange
    4: [213, 94, 0, 255], // vermillion
    5: [204, 121, 167, 255], // reddish purple
    6: [240, 228, 66, 255], // yellow
  },
  simulation: {
    0: [71, 85, 105, 120],
    1: [100, 116, 139, 140],
    2: [100, 116, 139, 140],
    3: [100, 116, 139, 140],
    4: [100, 116, 139, 140],
    5: [51, 65, 85, 160],
    6: [100, 116, 139, 140],
  },
};

/** Loading thresholds (percent of rating); 80 % and 100 % follow common planning limits (normal vs. emergency). */
export function statusOf(loadingPct: number, out: boolean, voltageViolation: boolean): StatusCode {
  if (out) return STATUS.out;
  if (loadingPct >= 100) return STATUS.overload;
  if (voltageViolation) return STATUS.voltage;
  if (Number.isNaN(loadingPct)) return STATUS.unknown;
  if (loadingPct >= 80) return STATUS.high;
  if (loadingPct >= 60) return STATUS.elevated;
  return STATUS.normal;
}

/**
 * Cascade waves (simulation mode only, over the greyed live map): one colour per wave, cycling
 * (viridis-like, readable on dark and for colour-blind users).
 */
export const WAVE_COLOURS: Rgba[] = [
  [253, 231, 37, 255],
  [122, 209, 81, 255],
  [34, 168, 132, 255],
  [42, 120, 142, 255],
  [65, 68, 135, 255],
  [68, 1, 84, 255],
];

export function waveColour(wave: number): Rgba {
  return WAVE_COLOURS[((wave % WAVE_COLOURS.length) + WAVE_COLOURS.length) % WAVE_COLOURS.length];
}

export function rgbaCss(c: Rgba): string {
  return `rgba(${c[0]},${c[1]},${c[2]},${(c[3] / 255).toFixed(2)})`;
}
