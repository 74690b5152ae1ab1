/** Sorting for the asset health table. Pure: returns a new array. */
import type { Json } from "../../api/endpoints";

export type SortDir = "asc" | "desc";

export function sortRows(rows: Json[], key: string, dir: SortDir): Json[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * sign;
    return String(x).localeCompare(String(y)) * sign;
  });
}

/** Numeric columns worth showing first (loading and ageing), then the rest as the backend sends them. */
export function columnsOf(rows: Json[], preferred: string[]): string[] {
  const present = new Set(rows.flatMap((r) => Object.keys(r)));
  const first = preferred.filter((k) => present.has(k));
  const rest = [...present].filter((k) => !first.includes(k) && typeof rows[0]?.[k] !== "object");
  return [...first, ...rest].slice(0, 9);
}
