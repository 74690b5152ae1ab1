import { describe, expect, it } from "vitest";
import { attrText } from "./attrText";

describe("inspector attribute values", () => {
  it("shows a year without a thousands separator", () => {
    expect(attrText("install_year", 1979, "America/Chicago")).toBe("1979");
    expect(attrText("year", 2024, "America/Chicago")).toBe("2024");
  });
  it("still groups other numbers and keeps timestamps in the zone", () => {
    expect(attrText("customers", 1979, "America/Chicago")).toBe((1979).toLocaleString());
    expect(attrText("kva_rating", 37.5, "America/Chicago")).toBe((37.5).toLocaleString(undefined, { minimumFractionDigits: 2 }));
    expect(attrText("years_in_service", 1979, "America/Chicago")).toBe((1979).toLocaleString());
    expect(attrText("last_inspected_utc", "2026-12-07T18:00:00Z", "America/Chicago")).toBe("Dec 7, 12:00 CST");
  });
});
