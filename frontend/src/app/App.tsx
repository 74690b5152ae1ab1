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
import { AssistantPanel } from "../features/assistant/AssistantPanel";
import { RiskPanel } from "../features/risk/RiskPanel";
import { LayersPanel } from "../features/layers/LayersPanel";
import { startMap } from "../features/layers/startMap";
import { layersStore } from "../features/layers/layersState";
import { SimulationBanner } from "../features/cascade/SimulationBanner";
import { useStore } from "../state/store";
import { setTab, uiStore } from "../state/ui";
import { TabBar, type TabSpec } from "./TabBar";
import { mapDataStore } from "../state/mapData";
import { liveStore, setConnected, streamEvent } from "../state/live";
import { connectStream } from "../api/stream";
import { applyGridDelta, loadGridLoading, loadGridState, loadLive, loadMapAssets, loadMeters, loadOutages, loadRole } from "./loaders";
import { ZOOM } from "../map/zoom";
import { afterGridDrawn } from "../state/firstFrame";

/**
 * The side panels, in tab order. A new panel is one entry here (and its id in `PanelTab`,
 * state/ui.ts): `short` ≤ 7 characters, `icon` one of TabBar's ICONS (add a path there if needed).
 */
const TABS: readonly TabSpec[] = [
  { id: "outages", label: "Outages", short: "Outages", icon: "outages", render: () => <OutagesPanel /> },
  { id: "alarms", label: "Alarms", short: "Alarms", icon: "alarms", render: () => <AlarmsPanel /> },
  { id: "workorders", label: "Work orders", short: "Orders", icon: "workorders", render: () => <WorkOrdersPanel /> },
  { id: "ami", label: "AMI analytics", short: "AMI", icon: "ami", render: () => <AmiPanel /> },
  { id: "health", label: "Asset health", short: "Health", icon: "health", render: () => <AssetHealthTable /> },
  { id: "cascade", label: "Cascade", short: "Cascade", icon: "cascade", render: (c) => <CascadeWorkspace picking={c.picking} onPickOnMap={c.onPickOnMap} /> },
  { id: "switching", label: "Switching", short: "Switch", icon: "switching", render: () => <SwitchingPanel /> },
  { id: "assistant", label: "Assistant", short: "Ask", icon: "assistant", render: () => <AssistantPanel /> },
  { id: "risk", label: "Risk", short: "Risk", icon: "risk", render: () => <RiskPanel /> },
  { id: "layers", label: "Layers", short: "Layers", icon: "layers", render: () => <LayersPanel /> },
];

/** Safety-net poll for when the stream is down (proxies that buffer SSE, laptops waking up). */
const POLL_MS = 30_000;
/** The power flow behind line colours follows the AMI hour; a few minutes is fresh enough between stream nudges. */
const LOADING_POLL_MS = 180_000;

export function App() {
  const ui = useStore(uiStore);
  const data = useStore(mapDataStore);
  const tileOnly = useStore(layersStore).tileOnly;
  const [picking, setPicking] = useState(false);

  useEffect(() => {
    // the single Arrow payload, or tiles only for a grid too large for it (features/layers/startMap.ts)
    void startMap(() => loadMapAssets().then(() => Promise.all([loadGridState(true), loadGridLoading(true)])).then(() => undefined));
    void loadOutages();
    // header figures, crews and the role wait for the grid's first frame (state/firstFrame.ts)
    void afterGridDrawn().then(() => Promise.all([loadRole(), loadLive()]));
    const stop = connectStream(
      (topic, data) => {
        if (topic === "hello") return;
        liveStore.update((s) => streamEvent(s, new Date().toISOString()));
        if (topic === "grid_state") {
          applyGridDelta(data);
          void loadGridLoading();
        }
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
  const togglePicking = useCallback(() => setPicking((p) => !p), []);

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          FLUX OPERATIONS CENTER
          {!data.assets && !data.error && !tileOnly && <span className="muted small">loading map…</span>}
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
          <TabBar tabs={TABS} active={ui.tab} onSelect={(t) => uiStore.update((s) => setTab(s, t))} />
          <div className="panel">{TABS.find((t) => t.id === ui.tab)?.render({ picking, onPickOnMap: togglePicking })}</div>
        </aside>
      </main>
    </div>
  );
}
