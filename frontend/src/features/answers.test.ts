import { describe, expect, it } from "vitest";
import { exportUrl, filenameFrom } from "../api/download";
import { alignWeather, curveHours, weatherWindow } from "./ami/weather";
import { mergeHits, remoteHits, remoteZoom } from "./search/searchApi";
import { exportSourceFor } from "./cascade/CascadeTabs";

describe("export", () => {
  it("adds the format to the table's own query", () => {
    expect(exportUrl({ path: "/api/outages", query: { status: "active", limit: 500 } }, "csv")).toBe(
      "/api/outages?status=active&limit=500&format=csv",
    );
    expect(exportUrl({ path: "/api/cascade/simulate", method: "POST", query: { list: "waves.lost" } }, "parquet")).toBe(
      "/api/cascade/simulate?list=waves.lost&format=parquet",
    );
  });
  it("takes the server's file name, never a path", () => {
    expect(filenameFrom('attachment; filename="outages.csv"', "x.csv")).toBe("outages.csv");
    expect(filenameFrom('attachment; filename="../../etc/passwd"', "x.csv")).toBe("x.csv");
    expect(filenameFrom(null, "fallback.geojson")).toBe("fallback.geojson");
  });
});

describe("weather beside a load curve", () => {
  const points = [
    { hour_utc: "2026-08-01T10:00:00+00:00", kw_avg: 3 },
    { hour_utc: "2026-08-01T11:00:00+00:00", kw_avg: null },
    { hour_utc: "2026-08-01T12:00:00+00:00", kw_avg: 4 },
  ];
  it("covers the curve's hours, end exclusive", () => {
    const hours = curveHours(points);
    expect(hours).toHaveLength(2);
    expect(weatherWindow(hours)).toEqual({ start: "2026-08-01T10:00:00Z", end: "2026-08-01T13:00:00Z" });
    expect(weatherWindow([])).toBeNull();
  });
  it("aligns temperature and wind by hour", () => {
    const rows = [
      { hour_utc: "2026-08-01T10:00:00Z", temperature_c: 30.5, wind_speed_m_s: 3.1 },
      { hour_utc: "2026-08-01T11:00:00Z", temperature_c: 31.5, wind_speed_m_s: 3.3 },
    ];
    const w = alignWeather(curveHours(points), rows);
    expect(w.temperatureC[0]).toBe(30.5);
    expect(Number.isNaN(w.temperatureC[1])).toBe(true);
    expect(w.windMs[0]).toBe(3.1);
  });
});

describe("server search hits", () => {
  it("keeps hits with coordinates and merges after local ones without repeats", () => {
    const remote = remoteHits({
      query: "x",
      count: 3,
      items: [
        { id: "MTR-1", kind: "meter", label: "101 Elm St 77001", detail: "J. Lee · MTR-1", lon: -95, lat: 29, score: 100 },
        { id: "XFMR-1", kind: "transformer", label: "XFMR-1", detail: "", lon: -95.1, lat: 29.1, score: 80 },
        { id: "bad", kind: "meter", label: "no position", detail: "", lon: Number.NaN, lat: 29, score: 40 },
      ],
    });
    expect(remote.map((h) => h.id)).toEqual(["MTR-1", "XFMR-1"]);
    const merged = mergeHits([{ id: "XFMR-1", label: "local", row: 3 }], remote);
    expect(merged.map((h) => h.id)).toEqual(["XFMR-1", "MTR-1"]);
    expect(remoteZoom("street")).toBeLessThan(remoteZoom("meter"));
  });
});

describe("cascade tab exports", () => {
  it("re-sends the tab's own request and names its list", () => {
    const inputs = { patient_zero: ["FDR-1"], scenario: "summer_peak" };
    expect(exportSourceFor("restoration-sequence", inputs, [], 0)).toEqual({
      path: "/api/cascade/restoration-sequence",
      method: "POST",
      body: inputs,
      query: { list: "plan.steps" },
    });
    const hard = exportSourceFor("compare-mitigations", inputs, ["A", "A", "B"], 1000);
    expect(hard?.body).toEqual({ node_ids: ["A", "B"] });
    expect(hard?.query).toEqual({ investment_budget: 1000, scenario: "summer_peak", list: "result.investments" });
    expect(exportSourceFor("explain", inputs, [], 0)).toBeNull();
  });
});
