/**
 * Renders an analysis response as it comes: scalars as chips, lists of records as tables, nested
 * objects as titled sections. The backend owns the figures; the UI only lays them out.
 */
import { fmt, str, type Json } from "../../api/endpoints";
import type { ExportSource } from "../../api/download";
import { ExportButton } from "../export/ExportButton";
import { DEFAULT_TIME_ZONE, timeText } from "./format";
import { humanLabel } from "./labels";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";

function cell(v: unknown, key = "", timeZone = DEFAULT_TIME_ZONE): string {
  const t = timeText(v, timeZone);
  if (t !== null) return t;
  if (typeof v === "number" && /year/.test(key)) return String(v);
  if (typeof v === "number") return fmt(v, Number.isInteger(v) ? 0 : 2);
  if (Array.isArray(v)) return v.length <= 4 && v.every((x) => typeof x !== "object") ? v.join(", ") : `${v.length} items`;
  if (v && typeof v === "object") return "…";
  return str(v);
}

/**
 * Records as a table: the first `maxCols` scalar columns seen in the first rows, `max` rows. With
 * `exportFrom` (the route the rows came from) an Export button offers the whole list as a file.
 */
export function RecordTable({
  rows,
  max,
  maxCols = 8,
  exportFrom,
}: {
  rows: Json[];
  max: number;
  maxCols?: number;
  exportFrom?: ExportSource;
}) {
  const tz = useStore(uiStore).timeZone;
  if (rows.length === 0) return <div className="muted">no rows</div>;
  const sample = rows.slice(0, 20);
  const cols = [...new Set(sample.flatMap((r) => Object.keys(r)))]
    .filter((c) => sample.some((r) => r[c] === null || typeof r[c] !== "object"))
    .slice(0, maxCols);
  const geo = rows.some((r) => typeof r.lon === "number" && typeof r.lat === "number");
  return (
    <>
    {exportFrom && <ExportButton source={exportFrom} geo={geo} />}
    <table className="list">
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c}>{humanLabel(c)}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, max).map((r, i) => (
          <tr key={i}>
            {cols.map((c) => (
              <td key={c}>{cell(r[c], c, tz)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
    </>
  );
}

export function JsonView({ value, depth = 0, max = 30, hide = [] }: { value: unknown; depth?: number; max?: number; hide?: string[] }) {
  const tz = useStore(uiStore).timeZone;
  if (Array.isArray(value)) {
    if (value.length === 0) return <div className="muted">none</div>;
    if (value.every((x) => x && typeof x === "object" && !Array.isArray(x))) return <RecordTable rows={value as Json[]} max={max} />;
    return <div>{value.map((x) => cell(x, "", tz)).join(", ")}</div>;
  }
  if (!value || typeof value !== "object") return <span>{cell(value, "", tz)}</span>;
  const entries = Object.entries(value as Json).filter(([k]) => !hide.includes(k));
  const scalars = entries.filter(([, v]) => v === null || typeof v !== "object");
  const nested = entries.filter(([, v]) => v !== null && typeof v === "object");
  return (
    <div className="jsonview">
      {scalars.length > 0 && (
        <div className="chips">
          {scalars.map(([k, v]) => (
            <span className="chip" key={k}>
              {humanLabel(k)}: {cell(v, k, tz)}
            </span>
          ))}
        </div>
      )}
      {depth < 3 &&
        nested.map(([k, v]) => (
          <section key={k}>
            <h5>{k.replace(/_/g, " ")}</h5>
            <JsonView value={v} depth={depth + 1} max={max} hide={hide} />
          </section>
        ))}
    </div>
  );
}
