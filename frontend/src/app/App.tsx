/** The shell: KPI header and search on top, the map, the side panels, the inspector and the legend. */
import { useCallback, useEffect, useState } from "react";
import { MapView, type MapProbe } from "../map/MapView";
import { KpiHeader } from "../features/kpi/KpiHeader";
import { SearchBox } from "../features/search/SearchBox";
import { Legend } from "../features/legend/Legend";
import { AssetInspector } from "../features/inspector/AssetInspector";
import { OutagesPanel } from "../features/outages/OutagesPanel";
import { AlarmsPanel } from "../features/alarms/AlarmsPanel";
import { WorkOrdersPanel } from "../features/workorders/WorkOrdersPanel";
import { AmiPanel } from "../features/ami/AmiPanel";
import { AssetHealthTable } from "../features/health/AssetHealthTable";
import { CascadeWorkspace } from "../features/cascade/CascadeWorkspace";
import { SwitchingPanel } from "../features/switching/SwitchingPanel";
import { SimulationBanner } from "../features/cascade/SimulationBanner";
import { useStore } from "../state/store";
import { setTab, uiStore, type PanelTab } from "../state/ui";
import { mapDataStore } from "../state/mapData";
import { liveStore, setConnected, streamEvent } from "../state/live";
import { connectStream } from "../api/stream";
import { loadGridLoading, loadGridState, loadLive, loadMapAssets, loadMeters, loadOutages } from "./loaders";
import { ZOOM } from "../map/zoom";

const TABS: [PanelTab, string][] = [
  ["outages", "Outages"],
  ["alarms", "Alarms"],
  ["workorders", "Work orders"],
  ["ami", "AMI analytics"],
  ["health", "Asset health"],
  ["cascade", "Cascade"],
  ["switching", "Switching"],
];

/** Safety-net poll for when the stream is down (proxies that buffer SSE, laptops waking up). */
const POLL_MS = 30_000;
/** The power flow behind line colours follows the AMI hour; a few minutes is fresh enough between stream nudges. */
const LOADING_POLL_MS = 180_000;

export function App() {
  const ui = useStore(uiStore);
  const data = useStore(mapDataStore);
  const [picking, setPicking] = useState(false);

  useEffect(() => {
    void loadMapAssets().then(() => Promise.all([loadGridState(true), loadGridLoading(true)]));
    void loadOutages();
    void loadLive();
    const stop = connectStream(
      (topic) => {
        if (topic === "hello") return;
        liveStore.update((s) => streamEvent(s, new Date().toISOString()));
        if (topic === "grid_state") void Promise.all([loadGridState(), loadGridLoading()]);
        else if (topic === "resync") void Promise.all([loadGridState(true), loadOutages(), loadLive(), loadGridLoading(true)]);
        else if (topic === "kpis") void Promise.all([loadOutages(), loadGridState(), loadGridLoading()]);
        else if (topic === "outage") void Promise.all([loadOutages(), loadGridState()]);
        else void loadLive();
      },
      (open) => liveStore.update((s) => setConnected(s, open)),
    );
    const poll = setInterval(() => {
      void loadOutages();
      void loadGridState();
      void loadLive();
    }, POLL_MS);
    const loadingPoll = setInterval(() => void loadGridLoading(true), LOADING_POLL_MS);
    return () => {
      stop();
      clearInterval(poll);
      clearInterval(loadingPoll);
    };
  }, []);

  // Meters load once the operator first zooms close enough to see them.
  useEffect(() => {
    const map = (window as unknown as { __fluxops?: MapProbe }).__fluxops?.map;
    if (!map) return;
    const check = () => {
      if (map.getZoom() >= ZOOM.metersFrom - 0.5) void loadMeters();
    };
    map.on("zoomend", check);
    return () => {
      map.off("zoomend", check);
    };
  }, [data.assets]);

  const onPicked = useCallback(() => setPicking(false), []);

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          FLUX OPERATIONS CENTER
          {!data.assets && !data.error && <span className="muted small">loading map…</span>}
        </div>
        <KpiHeader />
        <SearchBox />
      </header>
      <main className="body">
        <div className="map-col">
          <MapView pickingPatientZero={picking} onPatientZeroPicked={onPicked} />
          {data.error && <div className="notice error map-error">Map data unavailable: {data.error}</div>}
          <SimulationBanner />
          <Legend />
          <AssetInspector />
        </div>
        <aside className="side">
          <nav className="tab-bar">
            {TABS.map(([t, label]) => (
              <button key={t} data-testid={`tab-${t}`} className={ui.tab === t ? "active" : ""} onClick={() => uiStore.update((s) => setTab(s, t))}>
                {label}
              </button>
            ))}
          </nav>
          <div className="panel">
            {ui.tab === "outages" && <OutagesPanel />}
            {ui.tab === "alarms" && <AlarmsPanel />}
            {ui.tab === "workorders" && <WorkOrdersPanel />}
            {ui.tab === "ami" && <AmiPanel />}
            {ui.tab === "health" && <AssetHealthTable />}
            {ui.tab === "switching" && <SwitchingPanel />}
            {ui.tab === "cascade" && <CascadeWorkspace picking={picking} onPickOnMap={() => setPicking((p) => !p)} />}
          </div>
        </aside>
      </main>
    </div>
  );
}
