/**
 * What the operator typed in the cascade workspace (scenario, JSON overrides, analysis tab, budget,
 * explanation kind), kept outside the components so it survives leaving the Cascade tab and coming back.
 */
import { createStore } from "./store";

export type CascadeTab = "economic-impact" | "mitigation-actions" | "restoration-sequence" | "compare-mitigations" | "explain";

export interface CascadeForm {
  scenario: string;
  overrides: string;
  tab: CascadeTab;
  budgetUsd: number;
  explanation: string;
}

export const initialCascadeForm: CascadeForm = { scenario: "", overrides: "", tab: "economic-impact", budgetUsd: 1_000_000, explanation: "summary" };

export function setFormField<K extends keyof CascadeForm>(s: CascadeForm, key: K, value: CascadeForm[K]): CascadeForm {
  if (key === "budgetUsd" && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) return s;
  return s[key] === value ? s : { ...s, [key]: value };
}

export const cascadeFormStore = createStore<CascadeForm>(initialCascadeForm);
