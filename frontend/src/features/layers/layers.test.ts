import { describe, expect, it } from "vitest";
import { ENCROACHMENT_BANDS, NO_DATA, encroachmentColour, h3Metric, heatLegend, heatT, rampColour, riskColour } from "./scales";
import { circleRing, haversineM, lassoRing, selectionTotals, type SelectionAnswer } from "./selectionTotals";
import { assetTilesOn, geoLayers, initialLayers, vegetationSource, type TileLayerInfo } from "./layersState";
import { streetAngle } from "../../map/layers/geoLabels";
import { riskRadii } from "../../map/layers/riskAssets";
import { geoStyle } from "../../map/layers/geoTiles";
import { tileModeFromSearch } from "./startMap";

const layer = (name: string): TileLayerInfo => ({ name, description: name, geometry: "polygon", min_zoom: 10, tilejson: `/api/tiles/${name}.json` });

describe("colour scales", () => {
  it("bands months to encroachment, unknown is grey", () => {
    expect(encroachmentColour(0)).toEqual(ENCROACHMENT_BANDS[0].colour);
    expect(encroachmentColour(6)).toEqual(ENCROACHMENT_BANDS[1].colour);
    expect(encroachmentColour(13)).toEqual(ENCROACHMENT_BANDS[2].colour);
    expect(encroachmentColour(500)).toEqual(ENCROACHMENT_BANDS[4].colour);
    expect(encroachmentColour(null)).toEqual(NO_DATA);
    expect(encroachmentColour(Number.NaN)).toEqual(NO_DATA);
  });
  it("ramps from blue to red and clamps", () => {
    expect(rampColour(0).slice(0, 3)).toEqual([30, 64, 175]);
    expect(rampColour(1).slice(0, 3)).toEqual([220, 38, 38]);
    expect(rampColour(2)).toEqual(rampColour(1));
    expect(rampColour(Number.NaN)).toEqual(NO_DATA);
  });
  it("risk colour is grey when unknown", () => {
    expect(riskColour(null, 0.3)).toEqual(NO_DATA);
    expect(riskColour(0.3, 0.3).slice(0, 3)).toEqual([220, 38, 38]);
  });
});

describe("H3 legend", () => {
  it("labels stops with the unit and the cell area on the top stop, on the square-root scale", () => {
    const stops = heatLegend(400, h3Metric("load_kw"), 0.737);
    expect(stops).toHaveLength(5);
    expect(stops[0].label).toBe("0 kW");
    expect(stops[2].label).toBe("100 kW"); // t = 0.5 -> 400 * 0.25
    expect(stops[4].label).toBe("400 kW per cell (0.737 km²)");
    expect(heatT(100, 400)).toBeCloseTo(0.5);
  });
  it("has no stops when every cell is zero", () => {
    expect(heatLegend(0, h3Metric("outage_customers"), 0.7)).toEqual([]);
    expect(Number.isNaN(heatT(1, 0))).toBe(true);
  });
  it("names customers out with its unit", () => {
    expect(h3Metric("outage_customers")).toMatchObject({ label: "Customers out", unit: "customers" });
  });
});

describe("selection totals", () => {
  const answer: SelectionAnswer = {
    count: 7,
    by_type: { meter: 4, transformer: 2, pole: 1 },
    truncated: false,
    items: [
      { asset_id: "X1", asset_type: "transformer", name: "", feeder_id: "F", substation_id: "S", lon: 0, lat: 0, distance_m: null },
      { asset_id: "X2", asset_type: "transformer", name: "", feeder_id: "F", substation_id: "S", lon: 0, lat: 0, distance_m: null },
      { asset_id: "P1", asset_type: "pole", name: "", feeder_id: "F", substation_id: "S", lon: 0, lat: 0, distance_m: null },
    ],
  };
  it("sums kVA of known ratings, counts unknown apart, customers from meters", () => {
    const t = selectionTotals(answer, (id) => (id === "X1" ? 50 : Number.NaN));
    expect(t.kva).toBe(50);
    expect(t.kvaUnknown).toBe(1);
    expect(t.customers).toBe(4);
    expect(t.count).toBe(7);
    expect(t.byType[0]).toEqual(["meter", 4]);
    expect(t.partial).toBe(false);
  });
  it("lasso ring drops close points and closes; too few points is null", () => {
    const ring = lassoRing([[0, 0], [0.00001, 0], [1, 0], [1, 1], [0, 1]], 0.01)!;
    expect(ring).toHaveLength(5);
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    expect(lassoRing([[0, 0], [1, 1]], 0.01)).toBeNull();
  });
  it("circle ring lies at the radius (haversine)", () => {
    const ring = circleRing([-95.37, 29.76], 500, 16);
    expect(ring).toHaveLength(17);
    for (const p of ring) expect(Math.abs(haversineM([-95.37, 29.76], p) - 500)).toBeLessThan(5);
  });
});

describe("layer list", () => {
  it("shows only the geo layers the server lists and holds data; vegetation from its own layer or the segments", () => {
    const s = { ...initialLayers, available: [layer("segments"), layer("meters"), layer("water"), layer("buildings")], present: { water: true, buildings: false } };
    expect(geoLayers(s).map((l) => l.name)).toEqual(["water"]);
    expect(vegetationSource(s)).toEqual({ tileLayer: "segments", fromSegments: true });
    const listed = { ...s, available: [...s.available, layer("vegetation")] };
    expect(vegetationSource(listed)).toBeNull(); // listed, not generated: not offered
    expect(vegetationSource({ ...listed, present: { vegetation: true } })).toEqual({ tileLayer: "vegetation", fromSegments: false });
    expect(geoLayers({ ...listed, present: { vegetation: true } })).toEqual([]); // it has its own entry
    expect(vegetationSource(initialLayers)).toBeNull();
  });
  it("styles geo layers by their properties", () => {
    const veg = geoStyle("vegetation");
    expect((veg.line as (p: Record<string, unknown>) => unknown)({ months_to_encroachment: 0 })).toEqual(ENCROACHMENT_BANDS[0].colour);
    expect((veg.line as (p: Record<string, unknown>) => unknown)({ months_to_encroachment: null })).toEqual(NO_DATA);
    const flood = geoStyle("flood_zones").fill as (p: Record<string, unknown>) => number[];
    expect(flood({ zone: "AE" })[3]).toBeGreaterThan(flood({ zone: "X500" })[3]);
    const canopy = geoStyle("canopy").fill as (p: Record<string, unknown>) => number[];
    expect(canopy({ density: 1 })[3]).toBeGreaterThan(canopy({ density: 0.1 })[3]);
    expect(canopy({})).toEqual(NO_DATA);
  });
  it("tile mode: auto by the element count, forced either way", () => {
    expect(assetTilesOn("auto", 750_000, 300_000)).toBe(true);
    expect(assetTilesOn("auto", 60_000, 300_000)).toBe(false);
    expect(assetTilesOn("auto", null, 300_000)).toBe(false);
    expect(assetTilesOn("on", 10, 300_000)).toBe(true);
    expect(assetTilesOn("off", 1e7, 300_000)).toBe(false);
    expect(tileModeFromSearch("?tiles=on")).toBe("on");
    expect(tileModeFromSearch("?a=1&tiles=off")).toBe("off");
    expect(tileModeFromSearch("?tiles=yes")).toBe("auto");
    expect(tileModeFromSearch("")).toBe("auto");
  });
});

describe("labels and risk sizes", () => {
  it("street labels run along the street and stay upright", () => {
    expect(streetAngle({ name: "A", lon: 0, lat: 0, path: [[0, 0], [1, 0]] })).toBeCloseTo(0);
    expect(Math.abs(streetAngle({ name: "B", lon: 0, lat: 0, path: [[0, 1], [0, 0]] }))).toBeCloseTo(90);
    expect(streetAngle({ name: "C", lon: 0, lat: 0, path: [[1, 0], [0, 0]] })).toBeCloseTo(0);
  });
  it("one dot size without a consequence, area by consequence with one", () => {
    expect(Array.from(riskRadii(new Float32Array([Number.NaN, Number.NaN])))).toEqual([4, 4]);
    const r = riskRadii(new Float32Array([100, 25, Number.NaN]));
    expect(r[0]).toBeCloseTo(16);
    expect(r[1]).toBeCloseTo(3 + 13 * 0.5);
    expect(r[2]).toBe(4);
  });
});
