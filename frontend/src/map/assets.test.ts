import { describe, expect, it } from "vitest";
import { tableToIPC } from "apache-arrow";
import { countByType, decodeMapAssets, gatherPositions, indexById, indicesOfTypes, parseMapAssets } from "./assets";
import { samplePayload } from "../test/fixtures";

describe("decodeMapAssets", () => {
  const a = decodeMapAssets(samplePayload());

  it("decodes ids, types and coordinates into typed arrays", () => {
    expect(a.count).toBe(8);
    expect(a.ids[0]).toBe("SUB-1");
    expect(a.typeNames[a.typeCode[2]]).toBe("line_segment");
    expect(a.lon).toBeInstanceOf(Float32Array);
    expect(a.lat[4]).toBeCloseTo(29.02, 4);
  });

  it("keeps nulls as NaN and reads open/tie flags", () => {
    expect(Number.isNaN(a.loadingPct[5])).toBe(true);
    expect(a.loadingPct[3]).toBeCloseTo(120);
    expect(Array.from(a.isOpen)).toEqual([0, 0, 0, 0, 0, 0, 1, 0]);
    expect(a.isTie[6]).toBe(1);
    expect(a.feederCode[0]).toBe(-1);
    expect(a.feederIds).toEqual(["FDR-1"]);
  });

  it("flattens line paths with per-row starts", () => {
    expect(a.pathStart[2]).toBe(0);
    expect(a.pathStart[3]).toBe(3);
    expect(a.pathStart[4]).toBe(5);
    expect(a.pathStart[8]).toBe(5);
    expect(a.pathCoords[6]).toBeCloseTo(-95.02, 4);
  });

  it("round-trips through IPC bytes", () => {
    const b = parseMapAssets(tableToIPC(samplePayload(), "stream"));
    expect(b.ids).toEqual(a.ids);
    expect(Array.from(b.pathStart)).toEqual(Array.from(a.pathStart));
  });

  it("selects rows by type and gathers their positions", () => {
    const rows = indicesOfTypes(a, ["switch", "tie_switch"]);
    expect(Array.from(rows)).toEqual([5, 6]);
    const pos = gatherPositions(a, rows);
    expect(pos.length).toBe(4);
    expect(pos[2]).toBeCloseTo(-95.03, 4);
    expect(indexById(a).get("XF-1")).toBe(4);
    expect(countByType(a).line_segment).toBe(2);
  });
});
