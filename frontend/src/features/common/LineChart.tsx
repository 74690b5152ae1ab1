/** A small SVG line chart (no chart library): one or more series over a shared x axis. */
export interface Series {
  label: string;
  values: number[];
  colour: string;
}

export function LineChart({ series, xLabels, height = 120, unit = "" }: { series: Series[]; xLabels: string[]; height?: number; unit?: string }) {
  const width = 320;
  const pad = { l: 36, r: 6, t: 8, b: 18 };
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  if (all.length === 0) return <div className="notice">no data</div>;
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all) || 1;
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => pad.l + ((width - pad.l - pad.r) * i) / Math.max(1, n - 1);
  const y = (v: number) => pad.t + (height - pad.t - pad.b) * (1 - (v - lo) / (hi - lo || 1));
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img">
      <line x1={pad.l} x2={width - pad.r} y1={y(lo)} y2={y(lo)} stroke="#334155" />
      <text x={2} y={pad.t + 8} className="axis">{hi.toFixed(hi < 10 ? 2 : 0)}{unit}</text>
      <text x={2} y={height - pad.b} className="axis">{lo.toFixed(lo !== 0 && Math.abs(lo) < 10 ? 2 : 0)}</text>
      {xLabels.length > 0 && (
        <>
          <text x={pad.l} y={height - 4} className="axis">{xLabels[0]}</text>
          <text x={width - pad.r} y={height - 4} className="axis" textAnchor="end">{xLabels[xLabels.length - 1]}</text>
        </>
      )}
      {series.map((s) => (
        <polyline
          key={s.label}
          fill="none"
          stroke={s.colour}
          strokeWidth={1.5}
          points={s.values.map((v, i) => (Number.isFinite(v) ? `${x(i)},${y(v)}` : "")).filter(Boolean).join(" ")}
        >
          <title>{s.label}</title>
        </polyline>
      ))}
    </svg>
  );
}
