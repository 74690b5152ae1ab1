import { describe, expect, it } from "vitest";
import { Bool, Float64, Utf8, makeTable, tableToIPC, vectorFromArray, type Table, type Vector } from "apache-arrow";
import {
  loadingOverlay,
  loadingSourceNote,
  mergeLoading,
  mergeVoltage,
  parseGridLoading,
  voltageFromMeters,
  type GridLoadingRows,
} from "./gridLoading";
import { decodeMapAssets, indexById } from "./assets";
import { computeStatus } from "./status";
import { STATUS } from "./palette";
import { samplePayload } from "../test/fixtures";
import { applyStateRows, initialGridState } from "../state/gridState";

function loadingTable(meta: Record<string, string>): Table {
  const cols: Record<string, Vector> = {
    asset_id: vectorFromArray(["SEG-1", "SEG-2", "SEG-X", "BUS-1", "XF-1"], new Utf8()),
    kind: vectorFromArray(["line_segment", "line_segment", "line_segment", "bus", "transformer"], new Utf8()),
    loading_pct: vectorFromArray([42.5, null, 90, null, null], new Float64()),
    i_a: vectorFromArray([120, null, 300, null, null], new Float64()),
    v_pu: vectorFromArray([null, null, null, 0.93, 0.93], new Float64()),
    voltage_violation: vectorFromArray([false, false, false, true, true], new Bool()),
  };
  const t = makeTable(cols as never) as unknown as Table;
  for (const [k, v] of Object.entries(meta)) t.schema.metadata.set(k, v);
  return t;
}

describe("grid loading", () => {
  const a = decodeMapAssets(samplePayload());
  const byId = indexById(a);
  const rows = parseGridLoading(tableToIPC(loadingTable({ load_source: "ami", hour_utc: "2026-11-26T09:00:00+00:00" }), "stream"));

  it("decodes rows, nulls as NaN, and the load source", () => {
    expect(rows.assetId).toEqual(["SEG-1", "SEG-2", "SEG-X", "BUS-1", "XF-1"]);
    expect(rows.loadingPct[0]).toBeCloseTo(42.5);
    expect(Number.isNaN(rows.loadingPct[1])).toBe(true);
    expect(rows.vPu[4]).toBeCloseTo(0.93);
    expect(Array.from(rows.violation)).toEqual([0, 0, 0, 1, 1]);
    expect(rows.loadSource).toBe("ami");
    expect(rows.hourUtc).toBe("2026-11-26T09:00:00+00:00");
  });

  it("maps segments to their map rows and transformer violations to theirs; unknown ids are ignored", () => {
    const o = loadingOverlay(a.count, byId, rows);
    expect(o.loadingPct[byId.get("SEG-1")!]).toBeCloseTo(42.5);
    expect(Number.isNaN(o.loadingPct[byId.get("SEG-2")!])).toBe(true);
    expect(Number.isNaN(o.loadingPct[byId.get("XF-1")!])).toBe(true);
    expect(o.voltage[byId.get("XF-1")!]).toBe(1);
    expect(o.voltage.reduce((s, v) => s + v, 0)).toBe(1);
  });

  it("colours each segment by its own loading and a violating transformer as a voltage violation", () => {
    const o = loadingOverlay(a.count, byId, rows);
    const status = computeStatus(a, { out: null, voltage: o.voltage, loadingPct: o.loadingPct });
    expect(status[byId.get("SEG-1")!]).toBe(STATUS.normal);
    expect(status[byId.get("SEG-2")!]).toBe(STATUS.overload); // payload's 120 % where the flow has none
    expect(status[byId.get("XF-1")!]).toBe(STATUS.voltage);
  });

  it("prefers live loading, then the flow", () => {
    const live = new Float32Array([Number.NaN, 10]);
    const flow = new Float32Array([55, 66]);
    expect(Array.from(mergeLoading(live, flow)!)).toEqual([55, 10]);
    expect(mergeLoading(null, flow)).toBe(flow);
    expect(mergeLoading(live, null)).toBe(live);
    expect(Array.from(mergeVoltage(new Uint8Array([1, 0, 0]), new Uint8Array([0, 0, 1]))!)).toEqual([1, 0, 1]);
    expect(mergeVoltage(null, null)).toBeNull();
  });

  it("marks transformers of meters in AMI voltage violation (from grid state)", () => {
    let s = applyStateRows(initialGridState, a.count, byId, { asset_id: ["MTR-1", "MTR-2", "XF-1"], status: ["warning", "normal", "warning"], loading_pct: [null, null, 110] }, 1, true);
    expect(Array.from(s.voltageMeters)).toEqual(["MTR-1"]);
    const xf = byId.get("XF-1")!;
    const meters = { ids: ["MTR-1", "MTR-2"], positions: new Float32Array(4), transformerRows: new Int32Array([xf, -1]) };
    const v = voltageFromMeters(a.count, meters, s.voltageMeters)!;
    expect(v[xf]).toBe(1);
    s = applyStateRows(s, a.count, byId, { asset_id: ["MTR-1"], status: ["normal"], loading_pct: [null] }, 2, false);
    expect(s.voltageMeters.size).toBe(0);
    expect(voltageFromMeters(a.count, meters, s.voltageMeters)).toBeNull();
  });

  it("says where line colours come from, and why when the endpoint is missing", () => {
    expect(loadingSourceNote(rows, null)).toContain("AMI demand, hour 2026-11-26 09:00 UTC");
    const design: GridLoadingRows = { ...rows, loadSource: "design_peak", hourUtc: null };
    expect(loadingSourceNote(design, null)).toContain("design-peak demand");
    expect(loadingSourceNote(null, "missing")).toContain("no per-segment power flow");
    // a server error is never printed raw in the legend
    const failed = loadingSourceNote(null, "transformer kW must be finite and non-negative");
    expect(failed).not.toContain("non-negative");
    expect(failed).toContain("unavailable right now");
  });
});

describe("reverse flow (rooftop PV export) is a state of the line, not an error", () => {
  it("reads reverse_flow, maps it to rows and draws those segments", async () => {
    const { buildGeometry } = await import("../state/mapData");
    const { buildReverseFlowLayer, reverseSegments } = await import("./layers/reverseFlow");
    const a = decodeMapAssets(samplePayload());
    const byId = indexById(a);
    const cols: Record<string, Vector> = {
      asset_id: vectorFromArray(["SEG-1", "SEG-2"], new Utf8()),
      kind: vectorFromArray(["line_segment", "line_segment"], new Utf8()),
      loading_pct: vectorFromArray([12, 30], new Float64()),
      i_a: vectorFromArray([10, 20], new Float64()),
      v_pu: vectorFromArray([null, null], new Float64()),
      voltage_violation: vectorFromArray([false, false], new Bool()),
      p_from_kw: vectorFromArray([-85, 140], new Float64()),
      reverse_flow: vectorFromArray([true, false], new Bool()),
    };
    const t = makeTable(cols as never) as unknown as Table;
    t.schema.metadata.set("load_source", "ami");
    const rows = parseGridLoading(tableToIPC(t, "stream"));
    expect(Array.from(rows.reverse)).toEqual([1, 0]);
    const o = loadingOverlay(a.count, byId, rows);
    expect(o.reverseCount).toBe(1);
    expect(o.reverse[byId.get("SEG-1")!]).toBe(1);
    expect(o.loadingPct[byId.get("SEG-1")!]).toBeCloseTo(12); // still coloured by its loading
    const g = buildGeometry(a);
    const segs = reverseSegments({ segments: g.segments, lines: g.lines, reverse: o.reverse });
    expect(segs.sources.length / 2).toBe(2); // SEG-1 has 3 vertices: 2 two-point segments
    const layer = buildReverseFlowLayer({ segments: g.segments, lines: g.lines, reverse: o.reverse }, { visible: true, key: "k" });
    expect(layer.id).toBe("reverse-flow");
    expect(loadingSourceNote(rows, null)).toContain("1 segment carries reverse flow");
  });
});
