import { describe, expect, it } from "vitest";
import { investmentRows, restorationSummary } from "./cascadeViews";

describe("hardening ROI rows", () => {
  it("names each investment by measure and element, and marks the best set by index", () => {
    const rows = investmentRows({
      result: {
        investments: [
          { measure: "new_tie", element_id: "FDR-0001-01", asset_ids: ["BUS-1<->BUS-2"], cost_usd: 49799.3, npv_usd: -48819.45, roi_pct: -98 },
          { measure: "recloser", element_id: "SEG-7", asset_ids: ["SW-3"], cost_usd: 60000, npv_usd: 1000 },
        ],
        best_set: [1],
      },
    });
    expect(rows.map((r) => [r.name, r.description, r.chosen])).toEqual([
      ["New normally-open tie for FDR-0001-01", "tie BUS-1 ↔ BUS-2", false],
      ["Recloser for SEG-7", "switch SW-3 becomes a recloser", true],
    ]);
    expect(investmentRows({})).toEqual([]);
  });
});

describe("restoration milestones", () => {
  const ms = (t: number) => [25, 50, 75, 90, 100].map((pct) => ({ pct, time_min: t, customers_restored: 314 }));
  it("explains identical milestones and 0 % improvement when one repair restores everyone", () => {
    const s = restorationSummary({
      plan: {
        steps: [{ element_id: "SUB-0001", element_type: "substation", repair_h: 24, restored_min: 1440 }],
        milestones: ms(1440),
        improvement_pct: 0,
      },
    });
    expect(s?.note).toContain("One repair brings every customer back: substation SUB-0001 (24 h of work, done at 24 h)");
    expect(s?.milestones[4]).toEqual({ pct: 100, timeMin: 1440, customers: 314 });
  });
  it("says nothing when milestones differ and the order helps", () => {
    const s = restorationSummary({
      plan: {
        steps: [{}, {}],
        milestones: [
          { pct: 50, time_min: 60, customers_restored: 1 },
          { pct: 100, time_min: 120, customers_restored: 2 },
        ],
        improvement_pct: 12,
      },
    });
    expect(s?.note).toBeNull();
    expect(restorationSummary(null)).toBeNull();
  });
});
