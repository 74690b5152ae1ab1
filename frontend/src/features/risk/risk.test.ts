import { describe, expect, it } from "vitest";
import { calibrationPoints, captureBars, intervalText } from "./riskCharts";
import { consequenceKey, extraFigures, type ModelCard } from "./riskApi";
import { initialRiskFilters, pageLabel, setFilter } from "./riskState";

const card: ModelCard = {
  model_id: "m1",
  kind: "lightgbm",
  trained_utc: "2026-01-01T00:00:00Z",
  task: "t",
  evaluation: {
    chosen: "lightgbm",
    chosen_by: "validation",
    test: {
      oracle: { overall: { top10_capture: { value: 1, ci_lo: 0.5, ci_hi: 1 } }, calibration: [], by_type: {} },
      lightgbm: { overall: { top10_capture: { value: 0.4, ci_lo: 0.2, ci_hi: 0.6 } }, calibration: [], by_type: {} },
      age_only: { overall: {}, calibration: [], by_type: {} },
    },
  },
};

describe("risk charts", () => {
  it("capture bars per model, oracle last, missing stays null", () => {
    const bars = captureBars(card);
    expect(bars.map((b) => b.model)).toEqual(["age_only", "lightgbm", "oracle"]);
    expect(bars[0].value).toBeNull();
    expect(bars[1]).toEqual({ model: "lightgbm", value: 0.4, lo: 0.2, hi: 0.6 });
  });
  it("calibration points on the square, bins without an observed share left out", () => {
    const { points, max } = calibrationPoints(
      [
        { bin_lo: 0, count: 10, mean_p: 0.1, observed: 0.1 },
        { bin_lo: 0.1, count: 3, mean_p: 0.2, observed: null },
      ],
      100,
      10,
    );
    expect(max).toBeCloseTo(0.1);
    expect(points).toHaveLength(1);
    expect(points[0].x).toBeCloseTo(90);
    expect(points[0].y).toBeCloseTo(10);
  });
  it("interval text", () => {
    expect(intervalText({ value: 0.5, ci_lo: 0.4, ci_hi: 0.6 }, 2)).toBe("0.50 (0.40–0.60)");
    expect(intervalText(undefined)).toBe("—");
  });
});

describe("risk fields and paging", () => {
  it("finds consequence and risk fields the server adds, null as not computed", () => {
    const row = { asset_id: "A", probability: 0.1, consequence_customer_min: 1200, risk_usd_per_y: null, name: "x" };
    expect(extraFigures(row)).toEqual([
      ["consequence_customer_min", 1200],
      ["risk_usd_per_y", null],
    ]);
    expect(consequenceKey([row])).toBe("consequence_customer_min");
    expect(consequenceKey([{ asset_id: "A", customer_minutes: null, ice_usd: 5 }])).toBe("ice_usd");
    expect(extraFigures({ asset_id: "A", lon: 1, customers_interrupted: 3, risk_usd_per_y: 2 })).toEqual([
      ["customers_interrupted", 3],
      ["risk_usd_per_y", 2],
    ]);
    expect(consequenceKey([{ asset_id: "A", probability: 0.1 }])).toBeNull();
  });
  it("a filter change returns to the first page; paging keeps filters", () => {
    const f = setFilter({ ...initialRiskFilters, offset: 50 }, { assetType: "pole" });
    expect(f.offset).toBe(0);
    const g = setFilter(f, { offset: 25 });
    expect(g).toMatchObject({ assetType: "pole", offset: 25 });
    expect(pageLabel(g, 30)).toBe("26–30 of 30");
    expect(pageLabel(g, 0)).toBe("no assets");
  });
});
