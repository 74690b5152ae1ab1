import { describe, expect, it } from "vitest";
import { initialOutages, selectedOutage, selectOutage, setOutages, upsertOutage } from "./outages";
import { applyStateRows, initialGridState } from "./gridState";
import { clearCascade, focusWave, initialCascade, pickPatientZero, replay, runFailed, setResult, startRun, tick, waveCounts } from "./cascade";
import { flightReady, initialSelection, inspectorPainted, requestFlyTo, selectAsset } from "./selection";
import { initialUi, setBasemapStyleUrl, setPalette, setTab } from "./ui";
import { initialLive, setConnected, setError, setPart, streamEvent } from "./live";
import { createStore } from "./store";

describe("outages slice", () => {
  it("keeps only active outages and drops a selection that left", () => {
    let s = setOutages(initialOutages, [{ outage_id: "O1", status: "proposed" }, { outage_id: "O2", status: "restored" }]);
    expect(s.items.map((o) => o.outage_id)).toEqual(["O1"]);
    s = selectOutage(s, "O1");
    expect(selectedOutage(s)?.outage_id).toBe("O1");
    s = setOutages(s, [{ outage_id: "O3", status: "confirmed" }]);
    expect([s.selectedId, s.loaded]).toEqual([null, true]);
  });

  it("upserts stream events; restored and merged outages leave the list and the selection", () => {
    let s = selectOutage(setOutages(initialOutages, [{ outage_id: "O1", status: "proposed" }]), "O1");
    s = upsertOutage(s, { outage_id: "O3", status: "proposed" });
    expect(s.items.map((o) => o.outage_id)).toEqual(["O3", "O1"]);
    s = upsertOutage(s, { outage_id: "O1", status: "restored" });
    expect(s.items.map((o) => o.outage_id)).toEqual(["O3"]);
    expect(s.selectedId).toBeNull();
    expect(upsertOutage(s, { outage_id: "O3", status: "merged" }).items).toEqual([]);
  });

  it("does not mutate its input", () => {
    const s = setOutages(initialOutages, [{ outage_id: "O1", status: "proposed" }]);
    const frozen = JSON.stringify(s);
    upsertOutage(s, { outage_id: "O2", status: "proposed" });
    selectOutage(s, "O1");
    expect(JSON.stringify(s)).toBe(frozen);
  });
});

describe("grid state slice", () => {
  const byId = new Map([["A", 0], ["B", 1], ["C", 2]]);
  it("applies a full snapshot, then a diff, ignoring assets not on the map", () => {
    let s = applyStateRows(initialGridState, 3, byId, { asset_id: ["A", "B", "MTR-1"], status: ["out", "normal", "out"], loading_pct: [null, 85, null] }, 4, true);
    expect([Array.from(s.out!), s.outCount, s.version]).toEqual([[1, 0, 0], 1, 4]);
    expect(s.loadingPct![1]).toBeCloseTo(85);
    const before = s.out!;
    s = applyStateRows(s, 3, byId, { asset_id: ["A", "C"], status: ["normal", "out"], loading_pct: [null, null] }, 5, false);
    expect([Array.from(s.out!), s.outCount, s.version]).toEqual([[0, 0, 1], 1, 5]);
    expect(s.loadingPct![1]).toBeCloseTo(85);
    expect(Array.from(before)).toEqual([1, 0, 0]);
  });
});

describe("cascade slice", () => {
  const nodes = [
    { node_id: "P", wave: 0, cause_id: null, cause: "patient zero" },
    { node_id: "A", wave: 1, cause_id: null, cause: "protection" },
    { node_id: "B", wave: 2, cause_id: null, cause: "overload" },
    { node_id: "C", wave: 2, cause_id: null, cause: "overload" },
  ];

  it("runs, animates wave by wave and stops on the last", () => {
    let s = startRun(pickPatientZero(initialCascade, "P"));
    expect(s.running).toBe(true);
    s = setResult(s, { waves: [] }, nodes);
    expect([s.waveCount, s.currentWave, s.playing, s.running]).toEqual([3, 0, true, false]);
    s = tick(tick(s));
    expect(s.currentWave).toBe(2);
    s = tick(s);
    expect([s.currentWave, s.playing]).toEqual([2, false]);
    expect(tick(s)).toBe(s);
    expect(waveCounts(s)).toEqual([1, 1, 2]);
    expect(replay(s).currentWave).toBe(0);
  });

  it("focuses a wave (toggle) and clears keeping patient zero; failures keep the message", () => {
    let s = setResult(pickPatientZero(initialCascade, "P"), { waves: [] }, nodes);
    s = focusWave(s, 1);
    expect([s.focusWave, s.playing]).toEqual([1, false]);
    expect(focusWave(s, 1).focusWave).toBe(-1);
    const c = clearCascade(s);
    expect([c.patientZero, c.nodes.length, c.result]).toEqual(["P", 0, null]);
    expect(runFailed(startRun(c), "boom")).toMatchObject({ running: false, error: "boom" });
  });
});

describe("selection, ui and live slices", () => {
  it("selects and requests camera moves with increasing sequence numbers", () => {
    const s = selectAsset(initialSelection, "X");
    expect(selectAsset(s, "X")).toBe(s);
    const f1 = requestFlyTo(s, 1, 2, 14);
    const f2 = requestFlyTo(f1, 1, 2, 14);
    expect(f2.flyTo!.seq).toBe(f1.flyTo!.seq + 1);
    expect(f2.selectedId).toBe("X");
  });

  it("holds a camera move that follows a new selection until its inspector painted", () => {
    const s = requestFlyTo(selectAsset(initialSelection, "X"), 1, 2, 16);
    expect(s.flyTo!.after).toBe("X");
    expect(flightReady(s)).toBe(false);
    const painted = inspectorPainted(s, "X");
    expect(flightReady(painted)).toBe(true);
    // the same asset again: its details are on screen already, the camera goes at once
    expect(requestFlyTo(painted, 1, 2, 16).flyTo!.after).toBeNull();
    // a move with nothing selected, or after the selection was closed, never waits
    expect(flightReady(requestFlyTo(initialSelection, 1, 2, 12))).toBe(true);
    expect(flightReady(selectAsset(s, null))).toBe(true);
  });

  it("switches palette, tab and basemap URL", () => {
    expect(setPalette(initialUi, "default")).toBe(initialUi);
    expect(setPalette(initialUi, "colorblind").palette).toBe("colorblind");
    expect(setTab(initialUi, "cascade").tab).toBe("cascade");
    expect(setBasemapStyleUrl(initialUi, "  http://x/style.json ").basemapStyleUrl).toBe("http://x/style.json");
  });

  it("tracks live figures, errors and stream events", () => {
    let s = setError(initialLive, "kpis", "missing");
    s = setPart(s, "kpis", { customers: 10 });
    expect(s.errors.kpis).toBeUndefined();
    s = streamEvent(s, "2026-01-01T00:00:00Z");
    expect([s.revision, s.streamConnected]).toEqual([1, true]);
    expect(setConnected(s, true)).toBe(s);
  });

  it("notifies subscribers only on change", () => {
    const store = createStore({ n: 0 });
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.update((s) => s);
    store.update((s) => ({ n: s.n + 1 }));
    off();
    store.update((s) => ({ n: s.n + 1 }));
    expect([calls, store.get().n]).toEqual([1, 2]);
  });
});
