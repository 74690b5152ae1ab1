/** Air temperature and wind (the weather model, /api/weather) under an AMI load curve, hour by hour. */
import { listOf, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { LineChart } from "../common/LineChart";
import { alignWeather, curveHours, fetchWeather, weatherWindow } from "./weather";

export function WeatherStrip({ points, labels }: { points: Json[]; labels: string[] }) {
  const hours = curveHours(points);
  const window = weatherWindow(hours);
  const res = useApi(window ? () => fetchWeather(window) : null, [window?.start, window?.end]);
  if (!window || res.error) return res.error ? <div className="muted small">weather: {res.error}</div> : null;
  const w = alignWeather(hours, listOf(res.data, "rows"));
  if (!w.temperatureC.some((t) => Number.isFinite(t))) return null;
  return (
    <div data-testid="weather-strip">
      <div className="muted small">air temperature °C and wind m/s (weather model)</div>
      <LineChart
        height={80}
        series={[
          { label: "temperature °C", values: w.temperatureC, colour: "#f59e0b" },
          { label: "wind m/s", values: w.windMs, colour: "#a3e635" },
        ]}
        xLabels={labels}
      />
    </div>
  );
}
