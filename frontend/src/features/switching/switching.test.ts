import { describe, expect, it } from "vitest";
import {
  actionFor,
  checkFromDetails,
  compareRows,
  flowRows,
  isSwitchingDevice,
  orderActions,
  overloadDiff,
  parseIds,
  parseSteps,
  parseSwitchStates,
  readCheck,
  signedFigure,
  stateText,
  type CompareOut,
  type StepCheck,
  type SwitchingCheck,
} from "./switching";

function step(over: Partial<StepCheck> = {}): StepCheck {
  return {
    step: 1,
    device_id: "TIE-00002",
    action: "close",
    ok: true,
    problems: [],
    converged: true,
    customers_without_supply: 0,
    customers_interrupted: 0,
    critical_islanded: [],
    critical_islanded_count: 0,
    overloads: [],
    max_loading_pct: 71.23,
    min_v_pu: 0.98,
    ...over,
  };
}

describe("switching devices and states", () => {
  it("knows the device types that switch", () => {
    for (const t of ["breaker", "recloser", "sectionalizer", "fuse", "switch", "tie_switch", "bus_tie"]) expect(isSwitchingDevice(t)).toBe(true);
    for (const t of ["transformer", "line_segment", "meter", "", null, undefined]) expect(isSwitchingDevice(t)).toBe(false);
  });
  it("says whether a state is normal", () => {
    expect(stateText("closed", "closed")).toBe("Closed (normal)");
    expect(stateText("closed", "open")).toBe("Closed — operated, normally open");
    expect(actionFor("open")).toBe("close");
    expect(actionFor("closed")).toBe("open");
  });
});

describe("checks", () => {
  const refused: SwitchingCheck = {
    ok: false,
    failed_step: 1,
    load_multiplier: 1,
    steps: [
      step({
        ok: false,
        problems: ["overloads 1 element(s), worst FUS-0001-02-00011 at 133.4 % (limit 100 %)"],
        overloads: [{ element_id: "FUS-0001-02-00011", element_type: "fuse", loading_pct: 133.4, before_pct: 40 }],
        max_loading_pct: 133.4,
      }),
    ],
  };
  it("reads a refusal with its step and the server's reason", () => {
    const r = readCheck(refused);
    expect(r.ok).toBe(false);
    expect(r.headline).toBe("Refused at step 1 (close TIE-00002)");
    expect(r.problems[0]).toContain("133.4 %");
    expect(r.steps[0]).toContain("fails");
    expect(r.steps[0]).toContain("highest loading 133.4 %");
  });
  it("reads a pass", () => {
    const r = readCheck({ ok: true, failed_step: null, load_multiplier: 1, steps: [step(), step({ step: 2, customers_interrupted: 1234 })] });
    expect(r.headline).toBe("Passes the check: 2 steps at 1 × design peak");
    expect(r.problems).toEqual([]);
    expect(r.steps[1]).toContain("1,234 customers interrupted");
  });
  it("finds the check in an error body (operate 409, order 422/409)", () => {
    expect(checkFromDetails({ device_id: "X", check: refused })).toBe(refused);
    expect(checkFromDetails({ step: 1, validation: refused })).toBe(refused);
    expect(checkFromDetails({ device_id: "X" })).toBeNull();
    expect(checkFromDetails(null)).toBeNull();
  });
});

describe("orders", () => {
  it("allows the transitions of each status", () => {
    expect(orderActions("draft")).toEqual(["validate", "approve", "cancel"]);
    expect(orderActions("approved")).toEqual(["validate", "execute", "cancel"]);
    expect(orderActions("executed")).toEqual([]);
    expect(orderActions("cancelled")).toEqual([]);
  });
  it("parses typed steps, either word order", () => {
    expect(parseSteps("open FUS-1\nTIE-2 close\n\n")).toEqual({
      items: [
        { device_id: "FUS-1", action: "open" },
        { device_id: "TIE-2", action: "close" },
      ],
      errors: [],
    });
    expect(parseSteps("open FUS-1; close TIE-2").items).toHaveLength(2);
    const bad = parseSteps("toggle FUS-1\nopen");
    expect(bad.items).toEqual([]);
    expect(bad.errors).toHaveLength(2);
    expect(bad.errors[0]).toContain("line 1");
  });
  it("parses proposed switch states and refuses a device twice", () => {
    expect(parseSwitchStates("open FUS-1\nclosed TIE-2\nclose TIE-3").items).toEqual([
      { device_id: "FUS-1", state: "open" },
      { device_id: "TIE-2", state: "closed" },
      { device_id: "TIE-3", state: "closed" },
    ]);
    expect(parseSwitchStates("open A\nclosed A").errors[0]).toContain("A is listed twice");
    expect(parseIds(" SEG-1, SEG-2  SEG-1 ")).toEqual(["SEG-1", "SEG-2"]);
  });
});

describe("compare", () => {
  const fig = (over: Record<string, number>) => ({
    customers_out: 51,
    peak_customers_out: 72,
    critical_out: 0,
    customer_minutes: 37650,
    mwh_unserved: 1.25,
    cost_usd: 100000,
    overloaded_elements: [] as string[],
    ...over,
  });
  const out: CompareOut = {
    a: { label: "normal", configuration_hash: "h1", switch_states: [], figures: fig({}) },
    b: { label: "moved", configuration_hash: "h2", switch_states: [{ device_id: "TIE-2", state: "closed" }], figures: fig({ peak_customers_out: 51, customer_minutes: 33706, cost_usd: 120000 }) },
    difference_b_minus_a: {
      customers_out: 0,
      peak_customers_out: -21,
      critical_out: 0,
      customer_minutes: -3944,
      mwh_unserved: 0,
      cost_usd: 20000,
      overloaded_only_a: ["SEG-9"],
      overloaded_only_b: [],
      overloaded_both: ["SEG-1"],
    },
  };
  it("lines up the figures with B − A and the better side", () => {
    const rows = compareRows(out);
    expect(rows.map((r) => r.key)).toEqual(["customers_out", "peak_customers_out", "critical_out", "customer_minutes", "mwh_unserved", "cost_usd"]);
    const peak = rows[1];
    expect([peak.a, peak.b, peak.diff, peak.better]).toEqual([72, 51, -21, "b"]);
    expect(rows[0].better).toBeNull();
    expect(rows[5].better).toBe("a");
    expect(rows[5].unit).toBe("USD");
  });
  it("lists the overloaded elements by side", () => {
    expect(overloadDiff(out)).toEqual({ onlyA: ["SEG-9"], onlyB: [], both: ["SEG-1"] });
  });
  it("writes differences with sign and unit", () => {
    expect(signedFigure(-3944, "cust-min")).toBe("−3,944 cust-min");
    expect(signedFigure(20000, "USD")).toBe("+20,000 USD");
    expect(signedFigure(0, "MWh")).toBe("no change");
    expect(signedFigure(null, "MWh")).toBe("—");
  });
});

describe("what-if power flow", () => {
  it("lines up live and proposed with the difference", () => {
    const base = {
      configuration_hash: "h",
      converged: true,
      loops: 0,
      max_loading_pct: 71.2,
      min_v_pu: 0.981,
      losses_kw: 52.5,
      customers_without_supply: 0,
      critical_without_supply: [],
      critical_without_supply_count: 0,
      overloaded_count: 0,
      overloaded: [],
    };
    const rows = flowRows({
      scenario: "normal",
      live: base,
      proposed: { ...base, loops: 1, max_loading_pct: 133.4, overloaded_count: 1, min_v_pu: null },
      difference: { loops: 1, max_loading_pct: 62.2, overloaded_count: 1 },
    });
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(by.loops.diff).toBe(1);
    expect(by.max_loading_pct.proposed).toBe(133.4);
    expect(by.max_loading_pct.unit).toBe("%");
    expect(by.min_v_pu.proposed).toBeNull();
    expect(by.min_v_pu.diff).toBeNull();
    expect(by.losses_kw.diff).toBe(0); // not in the server's difference: computed
  });
});
