import { describe, expect, it } from "vitest";
import { crewPoints, crewTooltip } from "./crews";

const crews = [
  { crew_id: "CREW-001", name: "Line 1", status: "available", lon: -95.4, lat: 29.7, skills: "overhead" },
  { crew_id: "CREW-002", name: "Cable 2", status: "assigned", lon: -95.3, lat: 29.8, skills: "underground,service" },
  { crew_id: "CREW-003", name: "Sub 3", status: "assigned", lon: -95.2, lat: 29.9, skills: "substation" },
  { crew_id: "CREW-004", name: "No base", status: "off_shift", lon: null, lat: null, skills: null },
];
const sites: Record<string, [number, number]> = { "XFMR-9": [-95.0, 30.0] };
const position = (id: string) => sites[id] ?? null;

describe("crew positions", () => {
  it("puts a crew at its base, or at its work order's asset when dispatched or on site", () => {
    const wos = [
      { work_order_id: "WO-1", crew_id: "CREW-002", status: "in_progress", asset_id: "XFMR-9", updated_utc: "2026-12-07T10:00:00Z" },
      { work_order_id: "WO-0", crew_id: "CREW-002", status: "assigned", asset_id: "OTHER", updated_utc: "2026-12-07T11:00:00Z" },
      { work_order_id: "WO-2", crew_id: "CREW-003", status: "assigned", asset_id: "NOT-ON-MAP", updated_utc: "2026-12-07T10:00:00Z" },
      { work_order_id: "WO-3", crew_id: "CREW-001", status: "completed", asset_id: "XFMR-9", updated_utc: "2026-12-07T10:00:00Z" },
    ];
    const pts = crewPoints(crews, wos, position);
    expect(pts.map((p) => p.crewId)).toEqual(["CREW-001", "CREW-002", "CREW-003"]); // no base, no site: not drawn
    const [c1, c2, c3] = pts;
    expect([c1.where, c1.lon, c1.lat, c1.workOrderId]).toEqual(["base", -95.4, 29.7, null]);
    expect([c2.where, c2.lon, c2.lat, c2.workOrderId]).toEqual(["on site", -95.0, 30.0, "WO-1"]);
    expect([c3.where, c3.lon, c3.siteUnknown]).toEqual(["dispatched", -95.2, true]);
  });

  it("tooltip names crew id, skill, status and work order", () => {
    const [, c2] = crewPoints(crews, [{ work_order_id: "WO-1", crew_id: "CREW-002", status: "in_progress", asset_id: "XFMR-9" }], position);
    const t = crewTooltip(c2);
    expect(t).toContain("CREW-002");
    expect(t).toContain("underground, service");
    expect(t).toContain("assigned · on site");
    expect(t).toContain("work order WO-1 at XFMR-9");
  });
});
