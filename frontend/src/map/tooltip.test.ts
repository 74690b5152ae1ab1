import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "./assets";
import { tooltipText } from "./tooltip";
import { initialMapData, loaded } from "../state/mapData";
import { samplePayload } from "../test/fixtures";

describe("tooltip phases", () => {
  const a = decodeMapAssets(samplePayload());
  a.phaseNames = ["B", "ABC"];
  a.phaseCode = Int32Array.from([-1, -1, 0, 1, 0, 1, -1, -1]);
  const d = loaded(initialMapData, a, 0, 0);

  it("names the phases of a segment and a transformer", () => {
    expect(tooltipText({ kind: "asset", row: 2 }, d)).toContain("phases B");
    expect(tooltipText({ kind: "asset", row: 3 }, d)).toContain("phases ABC");
    expect(tooltipText({ kind: "asset", row: 4 }, d)).toContain("phases B");
  });

  it("says nothing of phases where the payload has none", () => {
    expect(tooltipText({ kind: "asset", row: 0 }, d)).not.toContain("phases");
    const bare = loaded(initialMapData, decodeMapAssets(samplePayload()), 0, 0);
    expect(tooltipText({ kind: "asset", row: 2 }, bare)).not.toContain("phases");
  });

  it("gives a meter its transformer's phases", () => {
    const withMeters = { ...d, meters: { ids: ["MTR-1"], transformerRows: Int32Array.from([4]) } } as never;
    expect(tooltipText({ kind: "meter", id: "MTR-1", index: 0 }, withMeters)).toContain("phases B");
  });
});
