import { describe, expect, it } from "vitest";
import { assetIdsIn, cellText, citationPlace, seriesOf, splitAssetIds, unitOf } from "./answerParts";
import { parseSse } from "./sse";
import type { ToolCall } from "./assistantApi";

const call = (name: string, data: Record<string, unknown>, args: Record<string, unknown> = {}): ToolCall => ({
  call_id: "c0",
  name,
  arguments: args,
  status: "ok",
  result: { data, row_count: 0, sql: [], citations: [], error: null, error_field: null },
  elapsed_ms: 1,
});

describe("answer parts", () => {
  it("makes only asset ids clickable", () => {
    const parts = splitAssetIds("XFMR-0001-01-0001 on FDR-0001-01 per IEEE 1366 and OUT-7", (id) => id !== "OUT-7");
    expect(parts.filter((p) => p.assetId).map((p) => p.assetId)).toEqual(["XFMR-0001-01-0001", "FDR-0001-01"]);
    expect(parts.map((p) => p.text).join("")).toBe("XFMR-0001-01-0001 on FDR-0001-01 per IEEE 1366 and OUT-7");
  });

  it("collects asset ids from tool results, not record ids", () => {
    const ids = assetIdsIn([call("asset_detail", { asset_id: "XFMR-1", path_to_substation: ["SEG-1", "SUB-1"], outage_id: "OUT-1" })]);
    expect([...ids].sort()).toEqual(["SEG-1", "SUB-1", "XFMR-1"]);
  });

  it("finds a series with its unit and its time axis", () => {
    const s = seriesOf([
      call("feeder_load", {
        items: [
          { feeder_id: "FDR-1", peak_kw: 10, peak_interval_utc: "2026-01-01T00:00:00Z" },
          { feeder_id: "FDR-2", peak_kw: 12, peak_interval_utc: "2026-01-01T01:00:00Z" },
        ],
      }),
    ]);
    expect(s?.valueKey).toBe("peak_kw");
    expect(unitOf("peak_kw")).toBe("kW");
    expect(s?.overTime).toBe(true);
    expect(seriesOf([call("find_assets", { items: [{ asset_id: "A" }] })])).toBeNull();
  });

  it("shows times in the utility's zone and units with numbers", () => {
    expect(cellText("start_utc", "2026-01-15T18:00:00Z", "America/Chicago")).toMatch(/12:00 CST/);
    expect(cellText("energy_kwh", 1234.5, "America/Chicago")).toBe("1,235 kWh");
    expect(cellText("voltage_v", null, "America/Chicago")).toBe("—");
  });

  it("names the page of a PDF citation", () => {
    expect(citationPlace({ title: "Manual", heading: "Manual > Lockout", line: 12, page: 2 })).toBe("Manual § Manual > Lockout, page 2, line 12");
  });
});

describe("sse", () => {
  it("parses complete events and keeps the rest", () => {
    const { events, rest } = parseSse('event: delta\ndata: {"text":"a"}\n\nevent: answer\ndata: {"te');
    expect(events).toEqual([{ event: "delta", data: { text: "a" } }]);
    expect(rest).toBe('event: answer\ndata: {"te');
  });
});
