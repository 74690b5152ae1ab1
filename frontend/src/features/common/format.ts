/**
 * How the control room reads times and figures: times in the utility's time zone with the zone shown,
 * durations in h/min, and figures rounded to what they can carry (no "0.000" or "5.1" without a unit).
 * Pure, so the rules are tested once.
 */

/** The utility's zone when none is configured: the Houston presets are in Central time. */
export const DEFAULT_TIME_ZONE = "America/Chicago";

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** "Dec 7, 11:02 CST" (or "—" for no time); `withDate` false gives "11:02 CST". */
export function formatTime(iso: unknown, timeZone: string, withDate = true): string {
  if (typeof iso !== "string" || !iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const opts: Intl.DateTimeFormatOptions = {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
    ...(withDate ? { month: "short", day: "numeric" } : {}),
  };
  return new Intl.DateTimeFormat("en-US", opts).format(d);
}

/** "Dec 7" in the zone (or "—"). */
export function formatDate(iso: unknown, timeZone: string): string {
  if (typeof iso !== "string" || !iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : new Intl.DateTimeFormat("en-US", { timeZone, month: "short", day: "numeric" }).format(d);
}

/** The zone's short name now, e.g. "CST" / "CDT". */
export function zoneAbbreviation(timeZone: string, at: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(at);
  return parts.find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

/** 7 min, 1 h 05 min, 2 d 3 h. */
export function formatDuration(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes) || minutes < 0) return "—";
  if (minutes < 60) return `${Math.round(minutes)} min`;
  const h = Math.floor(minutes / 60);
  if (h < 48) return `${h} h ${String(Math.round(minutes - h * 60)).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Minutes from `startIso` to `endIso` (or to now). */
export function minutesBetween(startIso: unknown, endIso: unknown, nowMs: number = Date.now()): number | null {
  if (typeof startIso !== "string") return null;
  const s = Date.parse(startIso);
  const e = typeof endIso === "string" ? Date.parse(endIso) : nowMs;
  return Number.isNaN(s) || Number.isNaN(e) ? null : Math.max(0, (e - s) / 60_000);
}

/**
 * A figure rounded to three significant digits (at most `maxDecimals` decimals), with its unit:
 * 0 → "0 min", 0.00042 → "0.00042", 5.1234 → "5.12 min", 1234.5 → "1,235 min".
 */
export function formatFigure(v: number | null | undefined, unit = "", maxDecimals = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  let text: string;
  if (v === 0) text = "0";
  else {
    const digits = Math.max(0, Math.min(maxDecimals, 2 - Math.floor(Math.log10(Math.abs(v)))));
    text = v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
    if (Number(text.replace(/,/g, "")) === 0) text = `< ${(10 ** -maxDecimals).toFixed(maxDecimals)}`;
  }
  return unit ? `${text} ${unit}` : text;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A timestamp string from the API (ISO 8601; the server's times are UTC, with or without the "Z")
 * in the utility's zone with its abbreviation, or null when `v` is not a timestamp. Lets generic
 * tables (AMI, analysis answers, the inspector's attributes) show every time in the zone.
 */
export function timeText(v: unknown, timeZone: string): string | null {
  if (typeof v !== "string" || !ISO_TIME.test(v)) return null;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v.replace(" ", "T")}Z`;
  const text = formatTime(zoned, timeZone);
  return text === "—" ? null : text;
}
