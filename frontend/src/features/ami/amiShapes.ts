/**
 * Reading AMI analytics responses into chart series. Pure, so the parsing rules are tested once.
 * A load curve is a list of points with a time and a kW figure (names as the AMI domain emits them).
 */
import { num, str, type Json } from "../../api/endpoints";

export interface Curve {
  labels: string[];
  kw: number[];
}

const TIME_KEYS = ["interval_start_utc", "ts_utc", "hour_utc", "time_utc", "bucket_utc", "hour", "t"];
const KW_KEYS = ["p_kw", "kw", "load_kw", "avg_kw", "demand_kw", "value"];

export function curveFrom(points: Json[]): Curve {
  const labels: string[] = [];
  const kw: number[] = [];
  for (const p of points) {
    const t = TIME_KEYS.map((k) => p[k]).find((v) => v !== undefined && v !== null);
    const v = KW_KEYS.map((k) => num(p[k])).find((x) => x !== null && x !== undefined);
    if (v === undefined || v === null) continue;
    labels.push(shortTime(str(t, "")));
    kw.push(v);
  }
  return { labels, kw };
}

export function shortTime(iso: string): string {
  // "2026-11-26T08:00:00+00:00" -> "11-26 08:00"
  const m = /^\d{4}-(\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}
