import { describe, expect, it } from "vitest";
import { nextWindow, pointsIn, segmentsIn, windowGeometry, windowMeters, type ViewBounds } from "./viewWindow";
import { flightMsFor, FLY_MS } from "./frameCost";
import type { MapGeometry, MeterData } from "../state/mapData";
import { resolvePick } from "./picking";

const view: ViewBounds = [0, 0, 1, 1];

describe("view window", () => {
  it("pads the view, keeps serving while the camera stays inside, and follows zoom bands", () => {
    const w = nextWindow(null, view, 14);
    expect([w.west, w.south, w.east, w.north, w.detail]).toEqual([-0.5, -0.5, 1.5, 1.5, "equipment"]);
    expect(nextWindow(w, [0.2, 0.2, 1.2, 1.2], 14)).toBe(w); // a pan inside
    expect(nextWindow(w, [1, 1, 2, 2], 14)).not.toBe(w); // out of it
    expect(nextWindow(w, [0.4, 0.4, 0.6, 0.6], 14.2)).not.toBe(w); // zoomed far in: a smaller window
    expect(nextWindow(w, view, 16).detail).toBe("meters");
    expect(nextWindow(null, view, 9).detail).toBe("none");
  });

  it("takes the points and segments inside, keeping their payload rows and paths", () => {
    const w = nextWindow(null, view, 14);
    const p = pointsIn({ rows: Int32Array.from([7, 8, 9]), positions: Float32Array.from([0, 0, 5, 5, 1, 1]) }, w);
    expect(Array.from(p.rows)).toEqual([7, 9]);
    expect(Array.from(p.positions)).toEqual([0, 0, 1, 1]);
    // a long span crossing the window is kept although neither end is inside
    const s = segmentsIn(
      { sources: Float32Array.from([-5, 0.5, 3, 3]), targets: Float32Array.from([5, 0.5, 4, 4]), segPath: Int32Array.from([0, 1]) },
      w,
    );
    expect(Array.from(s.segPath)).toEqual([0]);
  });

  it("draws no lines or devices at metro zoom, and meters only in the meter band, picking back to the full arrays", () => {
    const pts = { rows: Int32Array.from([1]), positions: Float32Array.from([0.5, 0.5]) };
    const g: MapGeometry = {
      substations: pts,
      lines: { rows: Int32Array.from([2]), startIndices: Int32Array.from([0, 2]), coords: Float32Array.from([0, 0, 1, 1]) },
      segments: { sources: Float32Array.from([0, 0]), targets: Float32Array.from([1, 1]), segPath: Int32Array.from([0]) },
      transformers: pts,
      poles: pts,
      switches: pts,
      protective: pts,
    };
    const metro = windowGeometry(g, nextWindow(null, view, 9));
    expect([metro.segments.segPath.length, metro.transformers.rows.length, metro.substations]).toEqual([0, 0, pts]);
    expect(windowGeometry(g, nextWindow(null, view, 14)).transformers.rows.length).toBe(1);
    const m: MeterData = { ids: ["M0", "M1", "M2"], positions: Float32Array.from([9, 9, 0.5, 0.5, 0.7, 0.7]), transformerRows: Int32Array.from([1, 1, 1]) };
    expect(windowMeters(m, nextWindow(null, view, 14))!.ids).toEqual([]);
    const near = windowMeters(m, nextWindow(null, view, 16))!;
    expect(near.ids).toEqual(["M1", "M2"]);
    expect(resolvePick("meters", 1, g, near)).toEqual({ kind: "meter", id: "M2", index: 2 });
  });
});

describe("camera moves", () => {
  it("fly where frames are fast, jump where a software renderer draws a few stills a second", () => {
    expect(flightMsFor([])).toBe(FLY_MS);
    expect(flightMsFor([16, 17, 18])).toBe(FLY_MS);
    expect(flightMsFor([250, 300, 16])).toBe(0);
  });
});
