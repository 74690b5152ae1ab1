import { describe, expect, it } from "vitest";
import { applyTileStatus, initialTileStatus } from "./tileStatus";
import { statusClass, withLiveStatus } from "../../map/layers/geoStatus";
import { geoStyle } from "../../map/layers/geoTiles";
import { PALETTES, STATUS } from "../../map/palette";

const answer = { epoch: "e1", version: 7, codes: ["normal", "warning", "critical", "out"], asset_id: ["F-1", "M-1", "T-1", "X-1"], status: [3, 2, 1, 0] };

describe("tile status overlay", () => {
  it("keeps only the assets that are not normal, and the same slice for the same version", () => {
    const s = applyTileStatus(initialTileStatus, answer);
    expect([...s.byId.entries()]).toEqual([
      ["F-1", "out"],
      ["M-1", "critical"],
      ["T-1", "warning"],
    ]);
    expect(s.version).toBe(7);
    expect(applyTileStatus(s, answer)).toBe(s);
    expect(applyTileStatus(s, { ...answer, version: 8, asset_id: [], status: [] }).byId.size).toBe(0);
  });

  it("colours named features by status, the rest with the layer's neutral colour", () => {
    const s = applyTileStatus(initialTileStatus, answer);
    const base = geoStyle("meters");
    const style = withLiveStatus("meters", base, s.byId);
    const fill = style.fill as (p: Record<string, unknown>) => number[];
    expect(fill({ id: "F-1" })).toEqual(PALETTES.default[STATUS.out]);
    expect(fill({ id: "M-1" })).toEqual(PALETTES.default[STATUS.voltage]); // a meter: AMI voltage
    expect(fill({ id: "other" })).toEqual(base.fill);
    expect(statusClass("transformers", "critical")).toBe(STATUS.overload);
    expect(statusClass("transformers", "warning")).toBe(STATUS.high);
    const seg = withLiveStatus("segments", geoStyle("segments"), s.byId, "colorblind");
    expect((seg.line as (p: Record<string, unknown>) => number[])({ id: "F-1" })).toEqual(PALETTES.colorblind[STATUS.out]);
    expect(withLiveStatus("meters", base, new Map())).toBe(base);
  });
});
