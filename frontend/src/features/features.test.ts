import { describe, expect, it } from "vitest";
import { decodeMapAssets } from "../map/assets";
import { samplePayload } from "../test/fixtures";
import { searchAssets, zoomFor } from "./search/search";
import { jobFailed, jobIdOf, nodesOf, resultOf, wavesOf } from "./cascade/cascadeResult";
import { nextStatus } from "./workorders/workOrders";
import { columnsOf, sortRows } from "./health/healthTable";
import { curveFrom, shortTime } from "./ami/amiShapes";
import { outageRows, outRows } from "../map/outageArea";
import { splitToken } from "../api/auth";
import { topicOf } from "../api/stream";
import { listOf } from "../api/endpoints";
import { withQuery as withQueryForTest } from "../api/client";

describe("search", () => {
  const a = decodeMapAssets(samplePayload());
  it("ranks exact id, then prefix, then substring", () => {
    expect(searchAssets(a, "SEG-1")[0].id).toBe("SEG-1");
    expect(searchAssets(a, "seg").map((h) => h.id)).toEqual(["SEG-1", "SEG-2"]);
    expect(searchAssets(a, "x")).toEqual([]);
    expect(zoomFor("substation")).toBeLessThan(zoomFor("transformer"));
  });
});

describe("cascade result parsing", () => {
  const result = {
    patient_zero: ["P"],
    waves: [
      { wave: 0, label: "fault", time_min: 0, lost: [{ element_id: "P", cause: "fault" }, { element_id: "A", cause: "protection" }], restored: [] },
      { wave: 1, label: "flisr", time_min: 1, lost: [{ element_id: "B", cause: "overload" }, { element_id: "R", cause: "restored" }], restored: [{ element_id: "R" }], customers_out_new: 12 },
    ],
  };
  it("lists each failed element once with its wave and cause, patient zero first", () => {
    expect(nodesOf(result).map((n) => [n.node_id, n.wave, n.cause])).toEqual([
      ["P", 0, "patient zero"],
      ["A", 0, "protection"],
      ["B", 1, "overload"],
    ]);
    const w = wavesOf(result);
    expect(w[1]).toMatchObject({ wave: 1, label: "flisr", lost: 2, restored: 1, customersOutNew: 12 });
    expect(w[0].causes).toEqual({ fault: 1, protection: 1 });
  });
  it("unwraps jobs", () => {
    expect(resultOf({ job_id: "j", status: "running" })).toBeNull();
    expect(resultOf({ job_id: "j", status: "done", result })).toBe(result);
    expect(jobIdOf({ job_id: "j" })).toBe("j");
    expect(jobFailed({ status: "failed", error: "bad" })).toBe("bad");
  });
});

describe("small rules", () => {
  it("advances work orders along the lifecycle", () => {
    expect(nextStatus("open")).toBe("assigned");
    expect(nextStatus("in_progress")).toBe("completed");
    expect(nextStatus("completed")).toBeNull();
    expect(nextStatus("cancelled")).toBeNull();
  });
  it("sorts health rows with nulls last, both directions", () => {
    const rows = [{ k: 2 }, { k: null }, { k: 5 }];
    expect(sortRows(rows, "k", "desc").map((r) => r.k)).toEqual([5, 2, null]);
    expect(sortRows(rows, "k", "asc").map((r) => r.k)).toEqual([2, 5, null]);
    expect(columnsOf([{ b: 1, a: 2, nested: { x: 1 } }], ["a"])).toEqual(["a", "b"]);
  });
  it("reads AMI curves and times", () => {
    expect(curveFrom([{ hour_utc: "2026-11-26T08:00:00+00:00", kw_avg: 3 }, { kw: null }])).toEqual({ labels: ["11-26 08:00"], kw: [3] });
    expect(shortTime("nope")).toBe("nope");
  });
  it("finds an outage's de-energized rows on its feeder, plus its device", () => {
    const a = decodeMapAssets(samplePayload());
    const byId = new Map(a.ids.map((id, i) => [id, i]));
    const out = Uint8Array.from([1, 0, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(outRows(out))).toEqual([0, 2, 4]);
    // SUB-1 (row 0) has no feeder, so only the feeder's rows count; the device is added.
    expect(Array.from(outageRows(a, byId, out, { feeder_id: "FDR-1", device_id: "SW-1" }))).toEqual([2, 4, 5]);
    expect(Array.from(outageRows(a, byId, null, { feeder_id: "FDR-1" }))).toEqual([]);
  });
  it("takes the token from the URL and strips it", () => {
    expect(splitToken("http://h/?token=abc&x=1")).toEqual({ token: "abc", cleanHref: "http://h/?x=1" });
    expect(splitToken("http://h/").token).toBeNull();
  });
  it("classifies stream events by name or payload", () => {
    expect(topicOf("outage_proposed", "")).toBe("outage");
    expect(topicOf("message", '{"type":"work_order.updated"}')).toBe("work_order");
    expect(topicOf("message", "not json")).toBe("other");
  });
  it("unwraps lists and builds queries", () => {
    expect(listOf({ items: [{ a: 1 }] })).toEqual([{ a: 1 }]);
    expect(listOf([{ a: 1 }])).toEqual([{ a: 1 }]);
    expect(withQueryForTest("/x", { a: 1, b: null, c: "" })).toBe("/x?a=1");
  });
});

describe("AMI and cascade helpers", () => {
  it("picks one feeder's hourly rows in time order and sums the latest hour", async () => {
    const { rowsOf, latestTotalKw } = await import("./ami/amiShapes");
    const rows = [
      { feeder_id: "F2", hour_utc: "2026-01-01T01:00:00Z", kw: 5 },
      { feeder_id: "F1", hour_utc: "2026-01-01T01:00:00Z", kw: 3 },
      { feeder_id: "F1", hour_utc: "2026-01-01T00:00:00Z", kw: 2 },
    ];
    expect(rowsOf(rows, "feeder_id", "F1").map((r) => r.kw)).toEqual([2, 3]);
    const after = Date.parse("2026-01-01T02:00:00Z");
    expect(latestTotalKw(rows, after)).toEqual({ kw: 8, hour: "2026-01-01T01:00:00Z" });
    // During 01:00-02:00 the 01:00 hour is incomplete: the 00:00 hour is the latest complete one.
    expect(latestTotalKw(rows, after - 1)).toEqual({ kw: 2, hour: "2026-01-01T00:00:00Z" });
    expect(latestTotalKw([])).toBeNull();
  });
  it("prices hardening for each lost element once", async () => {
    const { hardeningCandidates } = await import("./cascade/CascadeTabs");
    expect(hardeningCandidates(["A", "B", "A", "C"], 2)).toEqual(["A", "B"]);
  });
});

describe("feeder line loading", () => {
  it("scales design loading by AMI demand and fills feeder lines only", async () => {
    const { feederLoadingPct, withFeederLoading } = await import("../map/feederLoading");
    const a = decodeMapAssets(samplePayload());
    const design = new Map([["FDR-1", { maxSegmentLoadingPct: 80, peakKw: 1000 }]]);
    expect(Array.from(feederLoadingPct(a, design, null))).toEqual([80]);
    const live = feederLoadingPct(a, design, new Map([["FDR-1", 500]]));
    expect(Array.from(live)).toEqual([40]);
    expect(Number.isNaN(feederLoadingPct(a, design, new Map())[0])).toBe(true);
    const rows = withFeederLoading(a, null, live)!;
    // feeder (1) and its segments (2, 3) take the feeder's loading; the transformer (4) does not
    expect([rows[1], rows[2], rows[3]]).toEqual([40, 40, 40]);
    expect(Number.isNaN(rows[4])).toBe(true);
  });
});
