import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "./assets";
import { colourRows, computeStatus, maskFromIds, NO_OVERLAY, worstBySubstation } from "./status";
import { PALETTES, STATUS, statusOf } from "./palette";
import { samplePayload } from "../test/fixtures";

describe("status", () => {
  const a = decodeMapAssets(samplePayload());

  it("classifies loading, outage and voltage with outage winning", () => {
    expect(statusOf(50, false, false)).toBe(STATUS.normal);
    expect(statusOf(65, false, false)).toBe(STATUS.elevated);
    expect(statusOf(85, false, false)).toBe(STATUS.high);
    expect(statusOf(100, false, false)).toBe(STATUS.overload);
    expect(statusOf(Number.NaN, false, false)).toBe(STATUS.unknown);
    expect(statusOf(50, false, true)).toBe(STATUS.voltage);
    expect(statusOf(150, true, true)).toBe(STATUS.out);
  });

  it("applies the live outage overlay without touching the payload", () => {
    const before = computeStatus(a, NO_OVERLAY);
    const out = maskFromIds(a.count, new Map(a.ids.map((id, i) => [id, i])), ["XF-1", "unknown-id"]);
    const after = computeStatus(a, { ...NO_OVERLAY, out });
    expect(before[4]).toBe(STATUS.normal);
    expect(after[4]).toBe(STATUS.out);
    expect(after[3]).toBe(STATUS.overload);
    expect(a.deEnergized[4]).toBe(0);
  });

  it("colours rows from the chosen palette and picks the worst status per substation", () => {
    const status = computeStatus(a, NO_OVERLAY);
    const rows = Int32Array.from([3]);
    expect(Array.from(colourRows(status, rows, "default"))).toEqual(PALETTES.default[STATUS.overload]);
    expect(Array.from(colourRows(status, rows, "colorblind"))).toEqual(PALETTES.colorblind[STATUS.overload]);
    expect(worstBySubstation(a, status)[0]).toBe(STATUS.overload);
  });
});
