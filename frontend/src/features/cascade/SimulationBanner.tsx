/** The banner over the map while a cascade simulation is shown: what it is, and the way back to live. */
import { str } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { cascadeStore, resultPatientZero } from "../../state/cascade";
import { isSimulating } from "../../state/simulation";
import { setTab, uiStore } from "../../state/ui";
import { humanLabel } from "../common/labels";

export function SimulationBanner() {
  const ui = useStore(uiStore);
  const cas = useStore(cascadeStore);
  if (!isSimulating(ui.tab, cas.nodes.length)) return null;
  const scenario = cas.inputs ? str((cas.inputs as Record<string, unknown>).scenario, "") : "";
  return (
    <div className="sim-banner" data-testid="simulation-banner" role="status">
      <strong>SIMULATION</strong>
      <span>
        cascade from {resultPatientZero(cas) ?? cas.patientZero ?? "patient zero"}
        {scenario ? ` · ${humanLabel(scenario)}` : ""} · {cas.nodes.length.toLocaleString()} elements lost · the map shows simulated
        failures over the greyed live grid, not the live state
      </span>
      <button data-testid="exit-simulation" onClick={() => uiStore.update((s) => setTab(s, "outages"))}>
        Exit simulation
      </button>
    </div>
  );
}
