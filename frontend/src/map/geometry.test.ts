import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "./assets";
import { bounds, pathSet, perSegmentColours, perVertexColours, pointSet, segmentSet } from "./geometry";
import { samplePayload } from "../test/fixtures";
import { convexHull, ownStyle, padRing } from "./basemap";

describe("geometry", () => {
  const a = decodeMapAssets(samplePayload());

  it("builds path sets with their own start indices", () => {
    const p = pathSet(a, ["line_segment"]);
    expect(Array.from(p.rows)).toEqual([2, 3]);
    expect(Array.from(p.startIndices)).toEqual([0, 3, 5]);
    expect(p.coords.length).toBe(10);
  });

  it("expands per-path colours to every vertex", () => {
    const p = pathSet(a, ["line_segment"]);
    const v = perVertexColours(p, Uint8Array.from([1, 2, 3, 4, 9, 9, 9, 9]));
    expect(Array.from(v.slice(8, 12))).toEqual([1, 2, 3, 4]);
    expect(Array.from(v.slice(12, 16))).toEqual([9, 9, 9, 9]);
  });

  it("splits paths into two-point segments that remember their path", () => {
    const segs = segmentSet(pathSet(a, ["line_segment"]));
    expect(Array.from(segs.segPath)).toEqual([0, 0, 1]);
    expect(segs.targets[0]).toBeCloseTo(segs.sources[2], 6);
    const c = perSegmentColours(segs, Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 2]));
    expect(Array.from(c.slice(8))).toEqual([2, 2, 2, 2]);
  });

  it("gathers point sets and bounds", () => {
    expect(pointSet(a, ["transformer"]).positions.length).toBe(2);
    const b = bounds(a)!;
    expect(b[0]).toBeCloseTo(-95.03, 4);
    expect(b[3]).toBeCloseTo(29.021, 4);
  });

  it("builds an offline basemap style with no remote sources", () => {
    const hull = convexHull([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]);
    expect(hull.length).toBe(5);
    expect(hull[0]).toEqual(hull[4]);
    expect(padRing(hull, 0.1)[0][0]).toBeLessThan(0);
    const style = ownStyle(a);
    const json = JSON.stringify(style);
    expect(json).not.toMatch(/https?:/);
    expect(style.glyphs).toBeUndefined();
    expect(Object.keys(style.sources)).toEqual(["territory", "substationAreas", "feederCorridors"]);
  });
});
