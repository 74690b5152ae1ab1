import { describe, expect, it } from "vitest";
import { riskTerms, stormExplanation } from "./explain";

describe("risk index explained", () => {
  it("gives each term its value, weight, points and the inputs behind it", () => {
    const rows = riskTerms({
      index: 23.5,
      terms: { loading: 0.5, outages: 0.1 },
      weights: { loading: 0.3, outages: 0.2 },
      inputs: { transformers_over_warning: 10, transformers_with_loading: 20, load_source: "ami", customers_out: 50, customers_total: 10000 },
    });
    expect(rows.map((r) => [r.term, r.points])).toEqual([
      ["loading", 15],
      ["outages", 2],
    ]);
    expect(rows[0].basis).toContain("10 of 20 distribution transformers");
    expect(rows[1].basis).toContain("50 of 10,000 customers out");
    expect(riskTerms(null)).toEqual([]);
  });
});

describe("storm mode explained", () => {
  it("states the rule from the server, and whether it is on", () => {
    const t = stormExplanation({ min_feeders: 5, window_min: 15, min_reports_per_feeder: 2 }, true);
    expect(t).toMatch(/^Storm mode is ON\./);
    expect(t).toContain("5 or more feeders each have 2+ last-gasps within 15 min");
    expect(stormExplanation(undefined, false)).toContain("5 or more feeders");
  });
});
