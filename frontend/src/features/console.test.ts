import { describe, expect, it } from "vitest";
import { formatDuration, formatFigure, formatTime, minutesBetween, zoneAbbreviation } from "./common/format";
import { humanLabel, scenarioLabel } from "./common/labels";
import { allowedActions, etrSource } from "./outages/outageLifecycle";
import { initialUi, setTimeZone } from "../state/ui";
import { proposalLabel } from "./workorders/CrewPicker";

describe("control-room formatting", () => {
  it("shows times in the utility's zone, with the zone", () => {
    expect(initialUi.timeZone).toBe("America/Chicago");
    expect(formatTime("2026-12-07T17:05:00Z", "America/Chicago")).toBe("Dec 7, 11:05 CST");
    expect(formatTime("2026-07-07T17:05:00Z", "America/Chicago", false)).toBe("12:05 CDT");
    expect(formatTime(null, "America/Chicago")).toBe("—");
    expect(zoneAbbreviation("America/Chicago", new Date("2026-12-07T00:00:00Z"))).toBe("CST");
    expect(setTimeZone(initialUi, "Not/AZone")).toBe(initialUi);
    expect(setTimeZone(initialUi, "Europe/Berlin").timeZone).toBe("Europe/Berlin");
  });

  it("rounds figures to what they carry, with units", () => {
    expect(formatFigure(0, "min")).toBe("0 min");
    expect(formatFigure(5.1234, "min")).toBe("5.12 min");
    expect(formatFigure(0.000421)).toBe("0.0004");
    expect(formatFigure(1234.5, "min")).toBe("1,235 min");
    expect(formatFigure(null, "min")).toBe("—");
    expect(formatDuration(7)).toBe("7 min");
    expect(formatDuration(65)).toBe("1 h 05 min");
    expect(formatDuration(60 * 50)).toBe("2 d 2 h");
    expect(minutesBetween("2026-01-01T00:00:00Z", "2026-01-01T01:30:00Z")).toBe(90);
  });

  it("uses human labels instead of code names", () => {
    expect(humanLabel("small_ci")).toBe("Small C&I");
    expect(humanLabel("hot_spot_c")).toBe("Hot spot °C");
    expect(humanLabel("some_new_code")).toBe("Some new code");
    expect(humanLabel("connected_kva")).toBe("Connected kVA");
    expect(humanLabel("substation_id")).toBe("Substation ID");
    expect(humanLabel("ampacity_a")).toBe("Ampacity A");
    expect(humanLabel("ambient_temp_c")).toBe("Ambient temp °C");
    expect(humanLabel("v_hv_kv")).toBe("HV side kV");
    expect(scenarioLabel("summer_peak", 42)).toBe("Summer peak, 42 °C");
  });
});

describe("outage lifecycle", () => {
  it("offers the actions the OMS state allows", () => {
    expect(allowedActions({ status: "proposed" })).toEqual(["acknowledge", "confirm", "restore", "cancel"]);
    expect(allowedActions({ status: "proposed", acknowledged_utc: "2026-01-01T00:00:00Z" })).toEqual(["confirm", "restore", "cancel"]);
    expect(allowedActions({ status: "cancelled" })).toEqual([]);
    expect(allowedActions({ status: "confirmed", acknowledged_utc: "x" })).toEqual(["restore"]);
    expect(allowedActions({ status: "restored" })).toEqual([]);
    expect(etrSource({ by: "device_type", value: "fuse", median_min: 84, n: 12 })).toBe("median of 12 past fuse outages");
    expect(etrSource(null)).toMatch(/^no estimate/);
  });
});

describe("crew proposals", () => {
  it("label distance and fit", () => {
    expect(proposalLabel({ crew_id: "CREW-002", distance_km: 4.812, qualified: true, status: "available" })).toBe("CREW-002 · 4.81 km · qualified");
    expect(proposalLabel({ crew_id: "CREW-001", distance_km: 110.4, qualified: false, status: "assigned" })).toBe("CREW-001 · 110 km · lacks the skill · Assigned");
    expect(proposalLabel({ crew_id: "C", distance_km: null, qualified: null, status: "available" })).toBe("C · distance unknown · skills not recorded");
  });
});
