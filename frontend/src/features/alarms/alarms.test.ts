import { describe, expect, it } from "vitest";
import { markAcknowledged, parseAlarms, sortAlarms } from "./alarms";

const row = (id: string, t: string, severity: string, extra: Record<string, unknown> = {}) => ({
  alarm_id: id,
  kind: "last_gasp",
  severity,
  time_utc: t,
  source_id: "MTR-1",
  message: "m",
  acknowledged: false,
  ...extra,
});

describe("alarms", () => {
  it("parses, drops malformed rows and orders newest first, then by severity", () => {
    const got = parseAlarms({
      items: [
        row("a", "2026-07-01T10:00:00Z", "info"),
        row("b", "2026-07-01T11:00:00Z", "warning"),
        row("c", "2026-07-01T11:00:00Z", "critical"),
        { alarm_id: 3 },
        "junk",
      ],
    });
    expect(got.map((a) => a.alarm_id)).toEqual(["c", "b", "a"]);
    expect(parseAlarms(null)).toEqual([]);
  });
  it("unknown severities read as info", () => {
    expect(parseAlarms({ items: [row("x", "2026-07-01T10:00:00Z", "bogus")] })[0].severity).toBe("info");
  });
  it("marks only the acknowledged one, and never overwrites an earlier acknowledgement", () => {
    const rows = parseAlarms({ items: [row("a", "2026-07-01T10:00:00Z", "info"), row("b", "2026-07-01T09:00:00Z", "critical", { acknowledged: true, acknowledged_by: "x" })] });
    const m = markAcknowledged(rows, "a", "op", "2026-07-01T10:05:00Z");
    expect(m[0]).toMatchObject({ acknowledged: true, acknowledged_by: "op" });
    expect(markAcknowledged(m, "b", "op", "t")[1].acknowledged_by).toBe("x");
    expect(sortAlarms([]).length).toBe(0);
  });
});
