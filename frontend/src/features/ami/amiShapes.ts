/**
 * Reading AMI analytics responses into chart series. Pure, so the parsing rules are tested once.
 * A load curve is a list of points with a time and a kW figure (names as the AMI domain emits them).
 */
import { num, str, type Json } from "../../api/endpoints";

export interface Curve {
  labels: string[];
  kw: number[];
}

// Column names of /api/ami/transformers/load (hour_utc, kw_avg) and /api/ami/feeders/load (hour_utc, kw).
const TIME_KEYS = ["hour_utc", "interval_start_utc"];
const KW_KEYS = ["kw_avg", "kw"];

/** Points → labels and kW; with `timeZone` the labels are that zone's wall-clock time ("11-26 02:00"), else UTC. */
export function curveFrom(points: Json[], timeZone?: string): Curve {
  const labels: string[] = [];
  const kw: number[] = [];
  for (const p of points) {
    const t = TIME_KEYS.map((k) => p[k]).find((v) => v !== undefined && v !== null);
    const v = KW_KEYS.map((k) => num(p[k])).find((x) => x !== null && x !== undefined);
    if (v === undefined || v === null) continue;
    labels.push(timeZone ? zonedShortTime(str(t, ""), timeZone) : shortTime(str(t, "")));
    kw.push(v);
  }
  return { labels, kw };
}

export function shortTime(iso: string): string {
  // "2026-11-26T08:00:00+00:00" -> "11-26 08:00"
  const m = /^\d{4}-(\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/** "2026-11-26T08:00:00Z" in America/Chicago -> "11-26 02:00" (the input unchanged when it is no time). */
export function zonedShortTime(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** Rows of one group (feeder / substation) from an all-groups hourly answer, in time order. */
export function rowsOf(rows: Json[], key: string, id: string): Json[] {
  return rows.filter((r) => r[key] === id).sort((a, b) => str(a.hour_utc, "").localeCompare(str(b.hour_utc, "")));
}

/**
 * System load: the sum of every substation's average kW in the latest *completed* hour (the current
 * hour's average is computed over the intervals received so far and would read low). Null without data.
 */
export function latestTotalKw(rows: Json[], nowMs: number = Date.now()): { kw: number; hour: string } | null {
  const HOUR_MS = 3_600_000;
  let hour = "";
  for (const r of rows) {
    const h = str(r.hour_utc, "");
    if (h > hour && Date.parse(h) + HOUR_MS <= nowMs) hour = h;
  }
  if (!hour) return null;
  let kw = 0;
  for (const r of rows) if (str(r.hour_utc, "") === hour) kw += num(r.kw) ?? 0;
  return { kw, hour };
}

/** kW per group id in the latest complete hour (null when no hour has completed). */
export function latestKwBy(rows: Json[], key: string, nowMs: number = Date.now()): Map<string, number> | null {
  const latest = latestTotalKw(rows, nowMs);
  if (!latest) return null;
  const out = new Map<string, number>();
  for (const r of rows) if (str(r.hour_utc, "") === latest.hour) out.set(str(r[key]), num(r.kw) ?? 0);
  return out;
}
