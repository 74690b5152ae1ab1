import { describe, expect, it } from "vitest";
import { curveFrom, zonedShortTime } from "./amiShapes";

describe("AMI times in the utility's zone", () => {
  it("labels hours in the zone, UTC without one", () => {
    expect(zonedShortTime("2026-11-26T08:00:00Z", "America/Chicago")).toBe("11-26 02:00");
    expect(zonedShortTime("2026-07-01T08:00:00Z", "America/Chicago")).toBe("07-01 03:00");
    expect(zonedShortTime("nope", "America/Chicago")).toBe("nope");
    expect(curveFrom([{ hour_utc: "2026-11-26T08:00:00+00:00", kw_avg: 3 }], "America/New_York").labels).toEqual(["11-26 03:00"]);
    expect(curveFrom([{ hour_utc: "2026-11-26T08:00:00+00:00", kw_avg: 3 }]).labels).toEqual(["11-26 08:00"]);
  });
});
