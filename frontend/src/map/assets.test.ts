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

describe("decodeMapAssets with the server's index columns", () => {
  it("reads feeder_index / substation_index with ids from the schema metadata", async () => {
    const { Field, Float32, Int16, Int32, Schema, Utf8, makeData, RecordBatch, Struct, Table, vectorFromArray } = await import("apache-arrow");
    const cols = {
      asset_id: vectorFromArray(["SUB-1", "SEG-1"], new Utf8()),
      lon: vectorFromArray([1, 2], new Float32()),
      lat: vectorFromArray([3, 4], new Float32()),
      feeder_index: vectorFromArray([-1, 0], new Int16()),
      substation_index: vectorFromArray([0, 0], new Int16()),
      customers_downstream: vectorFromArray([10, 4], new Int32()),
    };
    const fields = Object.entries(cols).map(([k, v]) => new Field(k, v.type, true));
    const meta = new Map([
      ["feeders", JSON.stringify(["FDR-9"])],
      ["substations", JSON.stringify(["SUB-1"])],
    ]);
    const schema = new Schema(fields, meta);
    const data = makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: Object.values(cols).map((v) => v.data[0]) });
    const t = new Table(schema, new RecordBatch(schema, data));
    const a = decodeMapAssets(t);
    expect(Array.from(a.feederCode)).toEqual([-1, 0]);
    expect(a.feederIds).toEqual(["FDR-9"]);
    expect(a.substationIds[a.substationCode[1]]).toBe("SUB-1");
    expect(Array.from(a.customers)).toEqual([10, 4]);
  });
});
