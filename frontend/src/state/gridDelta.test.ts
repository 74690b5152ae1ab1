import { describe, expect, it } from "vitest";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { applyStateRows, deltaRows, initialGridState, type StateRows } from "./gridState";
import { parseCompactRows } from "../map/stateRows";

const byId = new Map([
  ["SUB-1", 0],
  ["FDR-1", 1],
  ["XF-1", 2],
  ["XF-2", 3],
]);

function compact(ids: string[], status: number[], load: (number | null)[]): Uint8Array {
  const t = tableFromArrays({ asset_id: ids, status: Int8Array.from(status), loading_pct: Float32Array.from(load.map((v) => (v === null ? Number.NaN : v))) });
  return tableToIPC(t, "stream");
}

describe("compact snapshot and stream deltas", () => {
  it("decodes int8 status codes and float32 loading (NaN: unknown)", () => {
    const rows = parseCompactRows(compact(["XF-1", "M-9"], [3, 1], [50.5, null]));
    expect(rows).toEqual({ asset_id: ["XF-1", "M-9"], status: ["out", "warning"], loading_pct: [50.5, null] });
  });

  it("the full snapshot plus the delta is the full snapshot at the new version", () => {
    const v1: StateRows = { asset_id: ["XF-1"], status: ["normal"], loading_pct: [80] };
    const s1 = { ...applyStateRows(initialGridState, 4, byId, v1, 1, true), epoch: "e1" };
    const delta = {
      version: 2,
      epoch: "e1",
      truncated: false,
      changes: [
        { asset_id: "XF-1", status: "normal", loading_pct: null },
        { asset_id: "XF-2", status: "out", loading_pct: 20 },
        { asset_id: "M-1", status: "critical", loading_pct: null },
      ],
    };
    const rows = deltaRows(s1, delta);
    expect(rows).not.toBeNull();
    const applied = applyStateRows(s1, 4, byId, rows!, 2, false);
    const v2: StateRows = { asset_id: ["XF-2", "M-1"], status: ["out", "critical"], loading_pct: [20, null] };
    const full2 = applyStateRows(s1, 4, byId, v2, 2, true);
    expect(Array.from(applied.out!)).toEqual(Array.from(full2.out!));
    expect(Array.from(applied.loadingPct!)).toEqual(Array.from(full2.loadingPct!));
    expect([...applied.voltageMeters]).toEqual([...full2.voltageMeters]);
    expect(applied.version).toBe(2);
  });

  it("a delta that skips a version, is truncated or comes from another epoch is not applied", () => {
    const s1 = { ...applyStateRows(initialGridState, 4, byId, { asset_id: [], status: [], loading_pct: [] }, 5, true), epoch: "e1" };
    const ok = { version: 6, epoch: "e1", truncated: false, changes: [{ asset_id: "XF-1", status: "out", loading_pct: null }] };
    expect(deltaRows(s1, ok)).not.toBeNull();
    expect(deltaRows(s1, { ...ok, version: 7 })).toBeNull();
    expect(deltaRows(s1, { ...ok, truncated: true })).toBeNull();
    expect(deltaRows(s1, { ...ok, epoch: "e2" })).toBeNull();
    expect(deltaRows(s1, { ...ok, changes: [{ asset_id: "XF-1", status: "out" }] })).toBeNull(); // an older server: no loading
  });
});
