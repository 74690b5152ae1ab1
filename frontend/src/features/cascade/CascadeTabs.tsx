/** The analysis tabs over one cascade result: economic impact, mitigation playbook, restoration, ROI, explanation. */
import { useState } from "react";
import { api, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { JsonView } from "../common/JsonView";
import { PanelState } from "../common/Status";

type Tab = "economic-impact" | "mitigation-actions" | "restoration-sequence" | "compare-mitigations" | "explain";

const TABS: [Tab, string][] = [
  ["economic-impact", "Economic impact"],
  ["mitigation-actions", "Mitigation playbook"],
  ["restoration-sequence", "Restoration"],
  ["compare-mitigations", "Hardening ROI"],
  ["explain", "Explanation"],
];

/** What the analysis endpoints take: the stored run's id when the backend kept it, else the run's inputs. */
export function analysisBody(result: Json, extra: Json = {}): Json {
  const runId = result.run_id ?? result.result_id ?? (result.extras as Json | undefined)?.run_id;
  if (typeof runId === "string") return { run_id: runId, ...extra };
  return { patient_zero: result.patient_zero, scenario: result.scenario, config: result.config, seed: result.seed, ...extra };
}

function TabBody({ tab, result, budget }: { tab: Tab; result: Json; budget: number }) {
  const extra: Json = tab === "compare-mitigations" ? { budget_usd: budget } : {};
  const res = useApi(() => api.cascadePost(tab, analysisBody(result, extra)), [tab, result, budget]);
  return (
    <PanelState loading={res.loading} error={res.error} missing={res.missing} what={`/api/cascade/${tab}`}>
      {res.data ? <JsonView value={res.data} /> : null}
    </PanelState>
  );
}

export function CascadeTabs({ result }: { result: Json }) {
  const [tab, setTab] = useState<Tab>("economic-impact");
  const [budget, setBudget] = useState(5_000_000);
  return (
    <div className="tabs" data-testid="cascade-tabs">
      <div className="tab-bar">
        {TABS.map(([t, label]) => (
          <button key={t} className={t === tab ? "active" : ""} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </div>
      {tab === "compare-mitigations" && (
        <label className="row">
          budget USD{" "}
          <input type="number" value={budget} step={500_000} min={0} onChange={(e) => setBudget(Number(e.target.value) || 0)} />
        </label>
      )}
      <TabBody tab={tab} result={result} budget={budget} />
    </div>
  );
}
