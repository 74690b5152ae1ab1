/**
 * Pure helpers of the chat panel: asset ids inside an answer's text (made clickable), the series a tool
 * returned (shown as a table and a small chart), units read from field names, cell text with times in
 * the utility's zone.
 */
import { formatFigure, timeText } from "../common/format";
import type { ToolCall } from "./assistantApi";

export interface TextPart {
  text: string;
  /** set when the part is an asset id the operator can click */
  assetId?: string;
}

const ID_TOKEN = /\b[A-Z]{2,5}(?:-[A-Z0-9]+)+\b/g;
/** keys whose values are records, not assets */
const NOT_ASSETS = /^(outage|work_order|crew|thread|message|call|alarm|order|doc|run|customer)_id$/;

/** Ids of assets named in the tool results (values of `*_id` keys, paths to the substation). */
export function assetIdsIn(calls: ToolCall[]): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, key: string, depth: number) => {
    if (depth > 6 || v === null || v === undefined) return;
    if (typeof v === "string") {
      if ((key.endsWith("_id") && !NOT_ASSETS.test(key)) || key === "path_to_substation" || key === "patient_zero") out.add(v);
    } else if (Array.isArray(v)) v.slice(0, 500).forEach((x) => walk(x, key, depth + 1));
    else if (typeof v === "object") for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k, depth + 1);
  };
  for (const c of calls) {
    walk(c.arguments, "", 0);
    if (c.result) walk(c.result.data, "", 0);
  }
  return out;
}

/** `text` cut into plain parts and asset ids (`isAsset` decides which id-shaped words are assets). */
export function splitAssetIds(text: string, isAsset: (id: string) => boolean): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(ID_TOKEN)) {
    const id = m[0];
    const at = m.index ?? 0;
    if (!/\d/.test(id) || !isAsset(id)) continue;
    if (at > last) parts.push({ text: text.slice(last, at) });
    parts.push({ text: id, assetId: id });
    last = at + id.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

const UNITS: [RegExp, string][] = [
  [/_kwh$/, "kWh"],
  [/_mwh$/, "MWh"],
  [/_kw$/, "kW"],
  [/_mw$/, "MW"],
  [/_kva$|^kva$/, "kVA"],
  [/_kvar$/, "kvar"],
  [/_v$/, "V"],
  [/_a$|_amps$/, "A"],
  [/_pct$|_percent$/, "%"],
  [/_minutes$|_min$/, "min"],
  [/_hours$|_h$/, "h"],
  [/_usd$|_cost$/, "USD"],
  [/_km$/, "km"],
  [/_m$/, "m"],
];

export function unitOf(key: string): string {
  const k = key.toLowerCase();
  return UNITS.find(([re]) => re.test(k))?.[1] ?? "";
}

/** A cell as shown: times in the zone, numbers with the unit their column names, unknown as "—". */
export function cellText(key: string, v: unknown, timeZone: string): string {
  if (v === null || v === undefined) return "—";
  const t = timeText(v, timeZone);
  if (t) return t;
  if (typeof v === "number") return formatFigure(v, unitOf(key));
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export interface SeriesTable {
  tool: string;
  columns: string[];
  rows: Record<string, unknown>[];
  /** the numeric column charted (null: a table only) */
  valueKey: string | null;
  /** the column naming each row on the chart's axis */
  labelKey: string | null;
  /** true when the rows are ordered in time (a line), false for categories (bars) */
  overTime: boolean;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function tableOf(tool: string, rows: Record<string, unknown>[], columns?: string[]): SeriesTable | null {
  if (rows.length < 2) return null;
  const cols = columns ?? Array.from(new Set(rows.flatMap((r) => Object.keys(r)))).filter((k) => rows.some((r) => typeof r[k] !== "object" || r[k] === null));
  const numeric = cols.filter((k) => rows.every((r) => r[k] === null || r[k] === undefined || isNum(r[k])) && rows.some((r) => isNum(r[k])));
  const idLike = (k: string) => /_id$|^id$|name|label/.test(k);
  const valueKey = numeric.find((k) => unitOf(k) !== "" && !idLike(k)) ?? numeric.find((k) => !idLike(k) && !/lon|lat/.test(k)) ?? null;
  const timeKey = cols.find((k) => /_utc$|^day$|date$|^hour$/.test(k) && rows.every((r) => typeof r[k] === "string"));
  const labelKey = timeKey ?? cols.find((k) => idLike(k) && rows.every((r) => typeof r[k] === "string")) ?? null;
  return { tool, columns: cols, rows, valueKey, labelKey, overTime: !!timeKey };
}

/** The first list of rows a successful tool call returned (two rows or more), for a table and a chart. */
export function seriesOf(calls: ToolCall[]): SeriesTable | null {
  for (const c of calls) {
    if (c.status !== "ok" || !c.result) continue;
    const d = c.result.data;
    if (Array.isArray(d.columns) && Array.isArray(d.rows)) {
      const t = tableOf(c.name, d.rows as Record<string, unknown>[], d.columns as string[]);
      if (t) return t;
    }
    for (const [k, v] of Object.entries(d)) {
      if (k === "hits" || k === "path_to_substation" || !Array.isArray(v)) continue;
      if (v.length > 0 && v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x))) {
        const t = tableOf(c.name, v as Record<string, unknown>[]);
        if (t) return t;
      }
    }
  }
  return null;
}

/** "Title § heading, page 2, line 14" — where a citation points. */
export function citationPlace(c: { title: string; heading: string; line: number; page: number | null }): string {
  const page = c.page !== null && c.page !== undefined ? `page ${c.page}, ` : "";
  return `${c.title} § ${c.heading}, ${page}line ${c.line}`;
}
