/** A series a tool returned: a table (times in the utility's zone, units from the column names) and a
 * small inline-SVG chart of its first measured column — a line over time, bars across assets. */
import { LineChart } from "../common/LineChart";
import { formatFigure } from "../common/format";
import { cellText, unitOf, type SeriesTable } from "./answerParts";

const MAX_ROWS = 50;
const MAX_BARS = 15;

function Bars({ labels, values, unit }: { labels: string[]; values: (number | null)[]; unit: string }) {
  const width = 320;
  const row = 16;
  const labelW = 120;
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const hi = Math.max(0, ...finite) || 1;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${row * labels.length + 4}`} width="100%" role="img" data-testid="assistant-chart">
      {labels.map((l, i) => {
        const v = values[i];
        const w = v === null || !Number.isFinite(v) ? 0 : ((width - labelW - 70) * Math.max(0, v)) / hi;
        return (
          <g key={`${l}-${i}`} transform={`translate(0 ${i * row + 2})`}>
            <text x={labelW - 4} y={row - 5} className="axis" textAnchor="end">{l.length > 20 ? `${l.slice(0, 19)}…` : l}</text>
            <rect x={labelW} y={2} width={w} height={row - 5} fill="#38bdf8" />
            <text x={labelW + w + 4} y={row - 5} className="axis">{v === null ? "unknown" : formatFigure(v, unit)}</text>
          </g>
        );
      })}
    </svg>
  );
}

export function SeriesView({ table, timeZone }: { table: SeriesTable; timeZone: string }) {
  const { rows, columns, valueKey, labelKey, overTime } = table;
  const unit = valueKey ? unitOf(valueKey) : "";
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return (
    <div className="asst-series" data-testid="assistant-series">
      {valueKey && labelKey && (
        <div className="asst-chart">
          <div className="muted small">
            {valueKey}
            {unit ? ` (${unit})` : ""} by {labelKey}
          </div>
          {overTime ? (
            <div data-testid="assistant-chart">
              <LineChart
                series={[{ label: valueKey, values: rows.map((r) => num(r[valueKey]) ?? Number.NaN), colour: "#38bdf8" }]}
                xLabels={rows.map((r) => cellText(labelKey, r[labelKey], timeZone))}
                unit={unit ? ` ${unit}` : ""}
              />
            </div>
          ) : (
            <Bars labels={rows.slice(0, MAX_BARS).map((r) => String(r[labelKey]))} values={rows.slice(0, MAX_BARS).map((r) => num(r[valueKey]))} unit={unit} />
          )}
        </div>
      )}
      <div className="asst-table-wrap">
        <table className="asst-table" data-testid="assistant-table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c}>
                  {c}
                  {unitOf(c) ? ` (${unitOf(c)})` : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, MAX_ROWS).map((r, i) => (
              <tr key={i}>
                {columns.map((c) => (
                  <td key={c}>{cellText(c, r[c], timeZone)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length > MAX_ROWS && <div className="muted small">first {MAX_ROWS} of {rows.length} rows</div>}
      </div>
    </div>
  );
}
