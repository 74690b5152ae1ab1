import { describe, expect, it } from "vitest";
import { cascadeFormStore, initialCascadeForm, setFormField } from "./cascadeForm";
import { cascadeStore, initialCascade, pickPatientZero, resultPatientZero, setResult } from "./cascade";

describe("cascade form", () => {
  it("keeps fields, refuses a bad budget, and is shared through its store", () => {
    const s = setFormField(setFormField(initialCascadeForm, "scenario", "hurricane"), "tab", "compare-mitigations");
    expect(s).toMatchObject({ scenario: "hurricane", tab: "compare-mitigations" });
    expect(setFormField(s, "budgetUsd", -1)).toBe(s);
    expect(setFormField(s, "scenario", "hurricane")).toBe(s);
    cascadeFormStore.update((x) => setFormField(x, "overrides", '{"load_multiplier": 1.1}'));
    expect(cascadeFormStore.get().overrides).toBe('{"load_multiplier": 1.1}');
    expect(cascadeStore).toBeDefined();
  });
});

describe("a result keeps its patient zero", () => {
  it("reads it from the run's inputs, not from the field the operator is editing", () => {
    const ran = setResult(pickPatientZero(initialCascade, "SUB-0001"), {}, [], { patient_zero: ["SUB-0001"] });
    const edited = pickPatientZero(ran, "FDR-0002-01");
    expect(resultPatientZero(edited)).toBe("SUB-0001");
    expect(resultPatientZero(initialCascade)).toBeNull();
  });
});
