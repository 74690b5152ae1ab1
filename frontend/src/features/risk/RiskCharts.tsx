/** Inline SVG charts of a model card: calibration per model and top-10 % capture with intervals. */
import { calibrationPoints, captureBars } from "./riskCharts";
import type { CalibrationBin, ModelCard } from "./riskApi";

const SIZE = 170;
const PAD = 24;

export function CalibrationPlot({ model, bins }: { model: string; bins: CalibrationBin[] }) {
  const { points, max } = calibrationPoints(bins, SIZE, PAD);
  const end = SIZE - PAD;
  return (
    <figure className="risk-chart" data-testid={`calibration-${model}`}>
      <svg width={SIZE} height={SIZE} role="img" aria-label={`calibration of ${model}`}>
        <rect x={PAD} y={PAD} width={SIZE - 2 * PAD} height={SIZE - 2 * PAD} fill="none" stroke="#334155" />
        <line x1={PAD} y1={end} x2={end} y2={PAD} stroke="#64748b" strokeDasharray="3 3" />
        {points.map((p, i) => (
          <circle key={i} cx={p.x} cy={p.y} r={Math.min(7, 2 + Math.sqrt(p.count) / 3)} fill="#38bdf8" fillOpacity={0.8}>
            <title>{`predicted ${(p.p * 100).toFixed(1)} %, observed ${(p.observed * 100).toFixed(1)} % (${p.count} assets)`}</title>
          </circle>
        ))}
        <text x={PAD} y={SIZE - 6} fontSize="9" fill="#94a3b8">
          predicted P (0–{(max * 100).toFixed(0)} %)
        </text>
        <text x={4} y={PAD - 8} fontSize="9" fill="#94a3b8">
          observed share
        </text>
      </svg>
      <figcaption className="small muted">{model}</figcaption>
    </figure>
  );
}

export function CaptureChart({ card }: { card: ModelCard }) {
  const bars = captureBars(card);
  const w = 260;
  const rowH = 18;
  const x0 = 96;
  const span = w - x0 - 40;
  return (
    <figure className="risk-chart" data-testid="capture-chart">
      <svg width={w} height={bars.length * rowH + 16} role="img" aria-label="top-10 % capture per model">
        {bars.map((b, i) => {
          const y = i * rowH + 4;
          return (
            <g key={b.model}>
              <text x={0} y={y + 11} fontSize="10" fill="#cbd5e1">
                {b.model}
              </text>
              {b.value === null ? (
                <text x={x0} y={y + 11} fontSize="10" fill="#94a3b8">
                  not computed
                </text>
              ) : (
                <>
                  <rect x={x0} y={y + 2} width={Math.max(1, b.value * span)} height={rowH - 6} fill={b.model === card.evaluation?.chosen ? "#22c55e" : b.model === "oracle" ? "#64748b" : "#38bdf8"} />
                  {b.lo !== null && b.hi !== null && (
                    <line x1={x0 + b.lo * span} x2={x0 + b.hi * span} y1={y + rowH / 2 - 1} y2={y + rowH / 2 - 1} stroke="#f8fafc" strokeWidth={1.5} />
                  )}
                  <text x={x0 + span + 4} y={y + 11} fontSize="10" fill="#cbd5e1">
                    {(b.value * 100).toFixed(0)} %
                  </text>
                </>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">share of the test year's failures in the top 10 % ranked (bars; line: 95 % bootstrap interval; grey: oracle ceiling)</figcaption>
    </figure>
  );
}
