/**
 * The weather beside an AMI load curve: the hours the curve covers, the /api/weather window for them,
 * and the model's temperature / wind at each of those hours. Pure, so the alignment is tested once.
 */
import { getJson } from "../../api/client";
import { num, str, type Json } from "../../api/endpoints";

const TIME_KEYS = ["hour_utc", "interval_start_utc"];
const KW_KEYS = ["kw_avg", "kw"];
const HOUR_MS = 3_600_000;

export interface WeatherSeries {
  temperatureC: number[];
  windMs: number[];
}

/** The hour (epoch ms) of every point `curveFrom` keeps (those with a kW figure), in order. */
export function curveHours(points: Json[]): number[] {
  const out: number[] = [];
  for (const p of points) {
    const t = TIME_KEYS.map((k) => p[k]).find((v) => v !== undefined && v !== null);
    const v = KW_KEYS.map((k) => num(p[k])).find((x) => x !== null && x !== undefined);
    if (v === undefined || v === null) continue;
    out.push(Date.parse(str(t, "")));
  }
  return out;
}

/** The `start` / `end` query of /api/weather covering these hours (end exclusive), or null. */
export function weatherWindow(hours: number[]): { start: string; end: string } | null {
  const ok = hours.filter((h) => Number.isFinite(h));
  if (ok.length === 0) return null;
  const lo = Math.floor(Math.min(...ok) / HOUR_MS) * HOUR_MS;
  const hi = Math.floor(Math.max(...ok) / HOUR_MS) * HOUR_MS + HOUR_MS;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { start: iso(lo), end: iso(hi) };
}

/** Temperature (°C) and wind (m/s) at each curve hour; NaN where the weather has no row. */
export function alignWeather(hours: number[], rows: Json[]): WeatherSeries {
  const byHour = new Map<number, Json>();
  for (const r of rows) byHour.set(Math.floor(Date.parse(str(r.hour_utc, "")) / HOUR_MS), r);
  const at = (h: number, key: string) => num(byHour.get(Math.floor(h / HOUR_MS))?.[key]) ?? Number.NaN;
  return {
    temperatureC: hours.map((h) => at(h, "temperature_c")),
    windMs: hours.map((h) => at(h, "wind_speed_m_s")),
  };
}

export function fetchWeather(window: { start: string; end: string }): Promise<Json> {
  return getJson<Json>("/api/weather", window);
}
