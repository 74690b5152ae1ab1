/**
 * Compare: two cascades side by side (`POST /api/cascade/compare`). Each side has its own patient
 * zero(s), scenario and proposed switch states (a what-if configuration, never written); the answer
 * shows both sides' figures and B − A: customers out, customer-minutes, energy unserved, cost, and
 * the elements tripped by overload only in A, only in B, or in both.
 */
import { useState } from "react";
import { api, listOf, num, str } from "../../api/endpoints";
import { describeError, useApi } from "../../api/useApi";
import { scenarioLabel } from "../common/labels";
import { useStore } from "../../state/store";
import { cascadeStore } from "../../state/cascade";
import {
  compareRows,
  digitsFor,
  overloadDiff,
  parseIds,
  parseSwitchStates,
  signedFigure,
  type CompareOut,
} from "./switching";
import { switchingApi, type CompareSideIn } from "./switchingApi";

interface SideForm {
  label: string;
  patientZero: string;
  scenario: string;
  states: string;
}

function SideEditor({ name, side, onChange, scenarios, pzPlaceholder }: {
  name: "a" | "b";
  side: SideForm;
  onChange: (s: SideForm) => void;
  scenarios: { name: string; label: string }[];
  pzPlaceholder: string;
}) {
  const parsed = parseSwitchStates(side.states);
  return (
    <fieldset className="compare-side" data-testid={`compare-side-${name}`}>
      <legend>{name.toUpperCase()}</legend>
      <label>
        Label
        <input data-testid={`compare-${name}-label`} value={side.label} maxLength={100} onChange={(e) => onChange({ ...side, label: e.target.value })} />
      </label>
      <label>
        Patient zero(s)
        <input
          data-testid={`compare-${name}-pz`}
          value={side.patientZero}
          placeholder={pzPlaceholder}
          onChange={(e) => onChange({ ...side, patientZero: e.target.value })}
        />
      </label>
      <label>
        Scenario
        <select data-testid={`compare-${name}-scenario`} value={side.scenario} onChange={(e) => onChange({ ...side, scenario: e.target.value })}>
          {scenarios.map((s) => (
            <option key={s.name} value={s.name}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Proposed switch states (one a line; empty: the live configuration)
        <textarea
          data-testid={`compare-${name}-states`}
          rows={2}
          value={side.states}
          placeholder={"open FUS-0001-02-00011\nclosed TIE-00002"}
          onChange={(e) => onChange({ ...side, states: e.target.value })}
        />
      </label>
      {parsed.errors.map((e) => (
        <div key={e} className="error-text small">
          {e}
        </div>
      ))}
    </fieldset>
  );
}

function toSide(f: SideForm, fallbackPz: string[]): CompareSideIn {
  const pz = parseIds(f.patientZero);
  const side: CompareSideIn = {
    patient_zero: pz.length ? pz : fallbackPz,
    scenario: f.scenario,
    switch_states: parseSwitchStates(f.states).items,
  };
  if (f.label.trim()) side.label = f.label.trim();
  return side;
}

function fmtFigure(v: number | null, digits: number): string {
  return v === null ? "—" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function ElementList({ title, ids, testId }: { title: string; ids: string[]; testId: string }) {
  return (
    <div data-testid={testId}>
      <b>{title}</b> ({ids.length}){ids.length ? ": " : ""}
      <span className="small">{ids.slice(0, 30).join(", ")}{ids.length > 30 ? `, … ${ids.length - 30} more` : ""}</span>
    </div>
  );
}

export function CompareResult({ out }: { out: CompareOut }) {
  const rows = compareRows(out);
  const over = overloadDiff(out);
  const la = out.a.label || "A";
  const lb = out.b.label || "B";
  return (
    <div data-testid="compare-result">
      <table className="list compare">
        <thead>
          <tr>
            <th>Figure</th>
            <th>A: {la}</th>
            <th>B: {lb}</th>
            <th>B − A</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`compare-row-${r.key}`}>
              <td>
                {r.label} <span className="muted small">({r.unit})</span>
              </td>
              <td className={r.better === "a" ? "better" : ""}>{fmtFigure(r.a, digitsFor(r.key))}</td>
              <td className={r.better === "b" ? "better" : ""}>{fmtFigure(r.b, digitsFor(r.key))}</td>
              <td data-testid={`compare-diff-${r.key}`} className={r.diff !== null && r.diff > 0 ? "warn" : ""}>
                {signedFigure(r.diff, r.unit, digitsFor(r.key))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="small">
        <ElementList title="Overloaded only in A" ids={over.onlyA} testId="compare-over-a" />
        <ElementList title="Overloaded only in B" ids={over.onlyB} testId="compare-over-b" />
        <ElementList title="Overloaded in both" ids={over.both} testId="compare-over-both" />
      </div>
      <div className="muted small">
        Lower is better; the better side of each figure is marked. A: {out.a.switch_states.length} proposed switch state(s); B:{" "}
        {out.b.switch_states.length}. Nothing here changes the live grid.
      </div>
    </div>
  );
}

export function ComparePanel() {
  const cas = useStore(cascadeStore);
  const scenariosApi = useApi(() => api.cascadeGet("scenarios"), []);
  const scenarios = listOf(scenariosApi.data, "scenarios").map((s) => ({
    name: str(s.name),
    label: `${scenarioLabel(str(s.name), num(s.ambient_temp_c))} · load × ${num(s.load_multiplier) ?? "—"}`,
  }));
  const fallback = scenarios.length ? scenarios[0].name : "normal";
  const [a, setA] = useState<SideForm>({ label: "normal configuration", patientZero: cas.patientZero ?? "", scenario: "", states: "" });
  const [b, setB] = useState<SideForm>({ label: "proposed", patientZero: "", scenario: "", states: "" });
  const [busy, setBusy] = useState(false);
  const [out, setOut] = useState<CompareOut | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const withScenario = (f: SideForm): SideForm => (f.scenario ? f : { ...f, scenario: fallback });
  const aPz = parseIds(a.patientZero);
  const bad = parseSwitchStates(a.states).errors.length + parseSwitchStates(b.states).errors.length > 0;

  const run = async () => {
    setBusy(true);
    setMessage(null);
    try {
      setOut(await switchingApi.compare(toSide(withScenario(a), []), toSide(withScenario(b), aPz)));
    } catch (e) {
      setOut(null);
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="compare-panel" data-testid="compare-panel">
      <div className="muted small">
        Two cascades side by side: pick a patient zero and scenario for each side, and optionally a proposed configuration (switch
        states laid over the live grid, never written).
      </div>
      <div className="compare-sides">
        <SideEditor name="a" side={withScenario(a)} onChange={setA} scenarios={scenarios} pzPlaceholder="element id(s), e.g. SEG-0001-02-00003" />
        <SideEditor name="b" side={withScenario(b)} onChange={setB} scenarios={scenarios} pzPlaceholder={aPz.length ? `same as A: ${aPz.join(", ")}` : "element id(s)"} />
      </div>
      <div className="row">
        <button data-testid="compare-run" disabled={busy || aPz.length === 0 || bad} onClick={() => void run()}>
          {busy ? "running both…" : "Compare"}
        </button>
      </div>
      {message && <div className="notice error" data-testid="compare-error">{message}</div>}
      {out && <CompareResult out={out} />}
    </div>
  );
}
