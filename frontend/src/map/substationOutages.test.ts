import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "./assets";
import { samplePayload } from "../test/fixtures";
import { buildGeometry } from "../state/mapData";
import { computeColours, composeLayers, substationRadii } from "./compose";
import { computeStatus, maskFromIds, NO_OVERLAY, substationDiscStatus } from "./status";
import { PALETTES, STATUS } from "./palette";
import { badgeText, outRadiusPx, substationOutages } from "./substationOutages";
import { isSimulating } from "../state/simulation";

describe("substation discs aggregate outages honestly", () => {
  it("a 6-customer fuse outage is 6 out of 8,677, not a de-energized substation", () => {
    const s = substationOutages(["SUB-A", "SUB-B"], [8677, 500], [
      { outage_id: "O1", status: "proposed", substation_id: "SUB-A", customers_out: 6 },
      { outage_id: "O2", status: "confirmed", substation_id: "SUB-B", customers_out: 500 },
      // nested inside O2: counted once, by its parent
      { outage_id: "O3", status: "proposed", substation_id: "SUB-B", customers_out: 20, parent_outage_id: "O2" },
    ]);
    expect(Array.from(s.customersOut)).toEqual([6, 500]);
    expect(s.share[0]).toBeCloseTo(6 / 8677, 6);
    expect(s.share[1]).toBe(1);
    expect(Array.from(s.outages)).toEqual([1, 1]);
    // the inner disc's area is the share of the outer (at least 2 px to stay visible)
    expect(outRadiusPx(30, s.share[0])).toBe(2);
    expect(outRadiusPx(30, 0.25)).toBeCloseTo(15);
    expect(outRadiusPx(30, 0)).toBe(0);
    expect([badgeText(6), badgeText(1234), badgeText(56_789)]).toEqual(["6", "1.2k", "57k"]);
  });

  it("fills a disc with the substation's own state, not the worst of its assets", () => {
    const a = decodeMapAssets(samplePayload());
    const g = buildGeometry(a);
    const byId = new Map(a.ids.map((id, i) => [id, i]));
    // a transformer out and a segment overloaded under SUB-1: its disc takes the feeder's loading (70 %)
    const status = computeStatus(a, { ...NO_OVERLAY, out: maskFromIds(a.count, byId, ["XF-1"]) });
    expect(status[byId.get("XF-1")!]).toBe(STATUS.out);
    expect(Array.from(substationDiscStatus(a, status, g.substations.rows))).toEqual([STATUS.elevated]);
    // the substation itself out (all its feeders) → out
    const all = computeStatus(a, { ...NO_OVERLAY, out: maskFromIds(a.count, byId, ["SUB-1", "FDR-1"]) });
    expect(Array.from(substationDiscStatus(a, all, g.substations.rows))).toEqual([STATUS.out]);
  });

  it("draws the out share and badge, and cascade waves only in simulation mode", () => {
    const a = decodeMapAssets(samplePayload());
    const g = buildGeometry(a);
    const status = computeStatus(a, NO_OVERLAY);
    const colours = computeColours(a, g, status, "default", substationRadii(a, g, new Map()), null, "k");
    const cascade = { positions: Float32Array.from([-95, 29]), waves: Int32Array.from([0]), causePositions: Float32Array.from([-95, 29]), patientZero: null };
    const base = { assets: a, geometry: g, colours, zoom: 9, selectedRow: -1, selectedPosition: null, meters: null, outages: null, outageKey: "", cascade, currentWave: 0, focusWave: -1 };
    const subOut = substationOutages(["SUB-1"], [1200], [{ outage_id: "O1", status: "proposed", substation_id: "SUB-1", customers_out: 8 }]);
    const live = composeLayers({ ...base, substationOutages: subOut, simulating: false });
    const ids = live.map((l) => l.id);
    expect(ids).toContain("substation-outage-share");
    expect(ids).toContain("substation-outage-badges");
    expect(ids).not.toContain("cascade-waves");
    const sim = composeLayers({ ...base, substationOutages: subOut, simulating: true });
    expect(sim.map((l) => l.id)).toContain("cascade-waves");
    expect(sim.map((l) => l.id)).not.toContain("substation-outage-badges");
    // the live map is greyed under a simulation: no status colour survives
    const grey = computeColours(a, g, status, "simulation", substationRadii(a, g, new Map()), null, "g");
    expect(Array.from(grey.substations.slice(0, 4))).toEqual(PALETTES.simulation[STATUS.elevated]);
    expect(isSimulating("cascade", 3)).toBe(true);
    expect(isSimulating("outages", 3)).toBe(false);
    expect(isSimulating("cascade", 0)).toBe(false);
  });
});
