import { describe, expect, it } from "vitest";
import { timeText } from "./format";
import { humanLabel } from "./labels";

describe("times in generic tables", () => {
  it("shows an API timestamp in the utility's zone with its abbreviation", () => {
    expect(timeText("2026-12-07T18:00:00Z", "America/Chicago")).toBe("Dec 7, 12:00 CST");
    expect(timeText("2026-07-07T18:00:00+00:00", "America/Chicago")).toBe("Jul 7, 13:00 CDT");
    // the server's naive timestamps are UTC
    expect(timeText("2026-12-07 18:00:00", "America/Chicago")).toBe("Dec 7, 12:00 CST");
  });
  it("leaves other values alone", () => {
    expect(timeText("2026-12-07", "America/Chicago")).toBeNull();
    expect(timeText("FDR-001", "America/Chicago")).toBeNull();
    expect(timeText(42, "America/Chicago")).toBeNull();
  });
  it("column names no longer claim UTC", () => {
    expect(humanLabel("peak_hour_utc")).toBe("Peak hour");
  });
});
