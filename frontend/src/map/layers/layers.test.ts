import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "../assets";
import { samplePayload } from "../../test/fixtures";
import { buildGeometry } from "../../state/mapData";
import { computeColours, composeLayers, substationRadii } from "../compose";
import { computeStatus, NO_OVERLAY } from "../status";
import { buildFeederLayer } from "./feeders";
import { buildEquipmentLayer, equipmentFill, equipmentOutline } from "./equipment";
import { buildCascadeLayers, cascadeColours } from "./cascade";
import { buildSubstationLayer, radiusForCustomers } from "./substations";
import { buildOutageLayer } from "./outages";
import { ZOOM } from "../zoom";
import { resolvePick } from "../picking";

function setup() {
  const a = decodeMapAssets(samplePayload());
  const g = buildGeometry(a);
  const status = computeStatus(a, NO_OVERLAY);
  const colours = computeColours(a, g, status, "default", substationRadii(a, g, new Map()), null, "k1");
  return { a, g, colours };
}

const base = { selectedRow: -1, selectedPosition: null, meters: null, outages: null, outageKey: "", cascade: null, currentWave: -1, focusWave: -1 };

describe("layer builders", () => {
  it("give binary data, explicit ids and update triggers", () => {
    const { g, colours } = setup();
    const f = buildFeederLayer({ segments: g.segments, colours: colours.lineSegments }, { visible: true, colourKey: "k1", widthPx: 2 });
    expect(f.id).toBe("feeder-lines");
    const data = f.props.data as unknown as { length: number; attributes: Record<string, { value: ArrayLike<number> }> };
    expect(data.length).toBe(3); // SEG-1 has 3 vertices (2 segments), SEG-2 has 2 (1 segment)
    expect(data.attributes.getSourcePosition.value).toBeInstanceOf(Float32Array);
    expect(f.props.updateTriggers).toMatchObject({ getColor: "k1" });

    const s = buildSubstationLayer({ points: g.substations, colours: colours.substations, radiiPx: colours.substationRadii }, { visible: true, colourKey: "x", selectedRow: 0 });
    expect(s.id).toBe("substation-aggregates");
    expect(s.props.updateTriggers).toMatchObject({ getFillColor: "x", getLineWidth: 0 });
  });

  it("sizes substations by customers (area), clamped", () => {
    expect(radiusForCustomers(0)).toBe(4);
    expect(radiusForCustomers(4000)).toBeGreaterThan(radiusForCustomers(1000));
    expect(radiusForCustomers(1e9)).toBe(30);
  });

  it("draws open devices hollow and ties with a yellow outline", () => {
    const { a, g, colours } = setup();
    const rows = g.switches.rows;
    const fill = equipmentFill(colours.switches, a.isOpen, rows);
    const outline = equipmentOutline(a.isOpen, a.isTie, rows);
    const tieIdx = Array.from(rows).indexOf(6);
    expect(fill[4 * tieIdx + 3]).toBe(0);
    expect(Array.from(outline.slice(4 * tieIdx, 4 * tieIdx + 4))).toEqual([250, 204, 21, 255]);
    const layer = buildEquipmentLayer({ points: g.switches, colours: colours.switches, isOpen: a.isOpen, isTie: a.isTie }, { id: "switches", visible: true, colourKey: "k", radiusPx: 5 });
    expect(layer.id).toBe("switches");
  });

  it("reveals cascade waves up to the current one and isolates a focused wave", () => {
    const waves = Int32Array.from([0, 1, 2]);
    const c = cascadeColours(waves, 1, -1);
    expect([c[3], c[7], c[11]]).toEqual([240, 240, 0]);
    const f = cascadeColours(waves, 2, 1);
    expect([f[3], f[7], f[11]]).toEqual([0, 240, 0]);
    const layers = buildCascadeLayers(
      { positions: new Float32Array(6), waves, causePositions: new Float32Array(6), patientZero: [0, 0] },
      { visible: true, currentWave: 1, focusWave: -1 },
    );
    expect(layers.map((l) => l.id)).toEqual(["cascade-causes", "cascade-waves", "cascade-patient-zero"]);
  });

  it("builds the outage layer with the selected outage brighter", () => {
    const l = buildOutageLayer({ positions: new Float32Array(4), selected: Uint8Array.from([1, 0]) }, { visible: true, selectionKey: "o1" });
    expect(l.id).toBe("outage-areas");
  });
});

describe("composeLayers zoom bands", () => {
  const visible = (zoom: number) => {
    const { a, g, colours } = setup();
    return Object.fromEntries(composeLayers({ ...base, assets: a, geometry: g, colours, zoom }).map((l) => [l.id, l.props.visible]));
  };

  it("shows substation aggregates only at metro zoom-out and equipment only at street zoom", () => {
    const metro = visible(9);
    expect(metro["substation-aggregates"]).toBe(true);
    expect(metro["feeder-lines"]).toBe(false);
    expect(metro.transformers).toBe(false);
    const district = visible(ZOOM.districtFrom + 0.5);
    expect(district["feeder-lines"]).toBe(true);
    expect(district.switches).toBe(false);
    const street = visible(ZOOM.streetFrom + 0.5);
    expect(street.switches).toBe(true);
    expect(street["protective-devices"]).toBe(true);
    expect(street.poles).toBe(true);
  });

  it("maps a pick on a subset layer back to the payload row", () => {
    const { g } = setup();
    expect(resolvePick("switches", 1, g, null)).toEqual({ kind: "asset", row: 6 });
    expect(resolvePick("feeder-lines", 0, g, null)).toEqual({ kind: "asset", row: 2 });
    expect(resolvePick("feeder-lines", 2, g, null)).toEqual({ kind: "asset", row: 3 });
    expect(resolvePick("selection-ring", 0, g, null)).toBeNull();
  });
});
