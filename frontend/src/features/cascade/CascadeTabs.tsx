/**
 * The analysis tabs over one cascade run: economic impact, mitigation playbook, restoration sequence
 * (with milestones), hardening ROI and the explanation. Each re-sends the run's inputs; the backend
 * recomputes deterministically from them (same inputs, same seed, same result).
 */
import { api, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import type { ExportSource } from "../../api/download";
import { JsonView } from "../common/JsonView";
import { ExportButton } from "../export/ExportButton";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { cascadeFormStore, setFormField, type CascadeTab } from "../../state/cascadeForm";
import { RestorationView, RoiTable } from "./CascadeTabViews";

export type Tab = CascadeTab;

const TABS: [Tab, string][] = [
  ["economic-impact", "Economic impact"],
  ["mitigation-actions", "Mitigation playbook"],
  ["restoration-sequence", "Restoration"],
  ["compare-mitigations", "Hardening ROI"],
  ["explain", "Explanation"],
];

/** Echoed inputs and parameter blocks: reproducibility data, not what the operator reads here. */
const HIDDEN = ["inputs", "config", "scenario"];

const EXPLANATIONS = ["summary", "patient_zero", "wave_analysis", "recommendations"] as const;

/** Elements to price hardening for: patient zero and everything the run lost (capped). */
export function hardeningCandidates(nodeIds: string[], max = 50): string[] {
  return [...new Set(nodeIds)].slice(0, max);
}

function request(tab: Tab, inputs: Json, result: Json, nodeIds: string[], budget: number, explanation: string): Promise<Json> {
  if (tab === "explain") return api.cascadePost("explain", { result, explanation_type: explanation });
  if (tab === "compare-mitigations") {
    const scenario = typeof inputs.scenario === "string" ? inputs.scenario : undefined;
    return api.cascadePost(tab, { node_ids: hardeningCandidates(nodeIds) }, { investment_budget: budget, scenario });
  }
  return api.cascadePost(tab, inputs);
}

/** The list each tab's answer exports (`list=`, dotted through the answer), with the same request. */
const EXPORT_LIST: Partial<Record<Tab, string>> = {
  "economic-impact": "impact.by_class",
  "mitigation-actions": "playbook.steps",
  "restoration-sequence": "plan.steps",
  "compare-mitigations": "result.investments",
};

export function exportSourceFor(tab: Tab, inputs: Json, nodeIds: string[], budget: number): ExportSource | null {
  const list = EXPORT_LIST[tab];
  if (!list) return null;
  if (tab === "compare-mitigations") {
    const scenario = typeof inputs.scenario === "string" ? inputs.scenario : undefined;
    return {
      path: `/api/cascade/${tab}`,
      method: "POST",
      body: { node_ids: hardeningCandidates(nodeIds) },
      query: { investment_budget: budget, scenario, list },
    };
  }
  return { path: `/api/cascade/${tab}`, method: "POST", body: inputs, query: { list } };
}

function TabBody(props: { tab: Tab; inputs: Json; result: Json; nodeIds: string[]; budget: number; explanation: string }) {
  const { tab, inputs, result, nodeIds, budget, explanation } = props;
  const res = useApi(() => request(tab, inputs, result, nodeIds, budget, explanation), [tab, inputs, result, budget, explanation]);
  const text = res.data && typeof res.data.text === "string" ? res.data.text : null;
  const source = exportSourceFor(tab, inputs, nodeIds, budget);
  return (
    <PanelState loading={res.loading} hasData={res.data !== null} error={res.error} missing={res.missing} what={`/api/cascade/${tab}`}>
      {text !== null ? (
        <p className="explanation" data-testid="cascade-explanation">{text}</p>
      ) : res.data ? (
        <>
          {source && <ExportButton source={source} geo={false} />}
          {tab === "compare-mitigations" && <RoiTable body={res.data} />}
          {tab === "restoration-sequence" && <RestorationView body={res.data} />}
          {tab === "compare-mitigations" || tab === "restoration-sequence" ? (
            <details>
              <summary className="muted small">the whole answer</summary>
              <JsonView value={res.data} hide={HIDDEN} />
            </details>
          ) : (
            <JsonView value={res.data} hide={HIDDEN} />
          )}
        </>
      ) : null}
    </PanelState>
  );
}

export function CascadeTabs({ inputs, result, nodeIds }: { inputs: Json; result: Json; nodeIds: string[] }) {
  // kept in a store, not component state: leaving the Cascade tab and coming back keeps them
  const form = useStore(cascadeFormStore);
  const { tab, budgetUsd: budget, explanation } = form;
  const setTab = (t: Tab) => cascadeFormStore.update((s) => setFormField(s, "tab", t));
  const setBudget = (b: number) => cascadeFormStore.update((s) => setFormField(s, "budgetUsd", b));
  const setExplanation = (x: string) => cascadeFormStore.update((s) => setFormField(s, "explanation", x));
  return (
    <div className="tabs" data-testid="cascade-tabs">
      <div className="tab-bar">
        {TABS.map(([t, label]) => (
          <button key={t} data-testid={`cascade-tab-${t}`} className={t === tab ? "active" : ""} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </div>
      {tab === "compare-mitigations" && (
        <label className="row">
          investment budget USD
          <input type="number" value={budget} step={250_000} min={0} onChange={(e) => setBudget(Number(e.target.value) || 0)} />
        </label>
      )}
      {tab === "explain" && (
        <select value={explanation} onChange={(e) => setExplanation(e.target.value)}>
          {EXPLANATIONS.map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>
      )}
      {/* keyed by tab: a tab's body starts empty, never showing the previous tab's answer while its own loads */}
      <TabBody key={tab} tab={tab} inputs={inputs} result={result} nodeIds={nodeIds} budget={budget} explanation={explanation} />
    </div>
  );
}
