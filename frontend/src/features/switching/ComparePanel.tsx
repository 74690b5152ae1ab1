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
  flowRows,
  overloadDiff,
  parseIds,
  parseSwitchStates,
  signedFigure,
  type CompareOut,
  type NMinus1Out,
  type WhatIfFlowOut,
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

function FlowResult({ out }: { out: WhatIfFlowOut }) {
  const rows = flowRows(out);
  return (
    <div data-testid="whatif-flow-result">
      <table className="list compare">
        <thead>
          <tr>
            <th>Power flow ({out.scenario})</th>
            <th>Live</th>
            <th>Proposed (B)</th>
            <th>Proposed − live</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`whatif-row-${r.key}`}>
              <td>
                {r.label} <span className="muted small">({r.unit})</span>
              </td>
              <td>{fmtFigure(r.live, r.digits)}</td>
              <td>{fmtFigure(r.proposed, r.digits)}</td>
              <td className={r.diff !== null && r.diff > 0 && r.key !== "min_v_pu" ? "warn" : ""}>{signedFigure(r.diff, r.unit, r.digits)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="small">
        Converged: live {out.live.converged ? "yes" : "no"}, proposed {out.proposed.converged ? "yes" : "no"}.
        {out.proposed.overloaded.length > 0 && (
          <> Overloaded in the proposal: {out.proposed.overloaded.map((o) => `${o.element_id} ${o.loading_pct.toFixed(1)} %`).join(", ")}.</>
        )}
        {out.proposed.critical_without_supply_count > 0 && (
          <span className="warn"> Critical customers without supply: {out.proposed.critical_without_supply.join(", ")}.</span>
        )}
      </div>
    </div>
  );
}

function NMinus1Result({ out }: { out: NMinus1Out }) {
  return (
    <div data-testid="whatif-n1-result">
      <div className="small">
        N-1 on the proposal ({out.scenario}), substations {out.substations.join(", ")}: {out.contingencies.toLocaleString("en-US")} line
        segments out one at a time; {out.contingencies_with_overload} with an overload, {out.contingencies_with_critical_out} with critical customers
        out.
      </div>
      <table className="list">
        <thead>
          <tr>
            <th>Segment out</th>
            <th>Customers out</th>
            <th>Critical</th>
            <th>Highest loading (%)</th>
            <th>Lowest voltage (pu)</th>
          </tr>
        </thead>
        <tbody>
          {out.worst.map((w) => (
            <tr key={w.element_id}>
              <td>{w.element_id}</td>
              <td>{w.customers_out.toLocaleString("en-US")}</td>
              <td className={w.critical_out > 0 ? "warn" : ""}>{w.critical_out}</td>
              <td className={w.max_loading_pct !== null && w.max_loading_pct > 100 ? "warn" : ""}>
                {fmtFigure(w.max_loading_pct, 1)}
                {w.worst_element ? <span className="muted small"> {w.worst_element}</span> : null}
              </td>
              <td>{fmtFigure(w.min_v_pu, 3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
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

  const [flow, setFlow] = useState<WhatIfFlowOut | null>(null);
  const [n1, setN1] = useState<NMinus1Out | null>(null);
  const study = async (kind: "flow" | "n1") => {
    const side = withScenario(b);
    const states = parseSwitchStates(side.states).items;
    setBusy(true);
    setMessage(null);
    try {
      if (kind === "flow") setFlow(await switchingApi.whatifFlow(states, side.scenario));
      else setN1(await switchingApi.whatifN1(states, side.scenario));
    } catch (e) {
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };

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
          {busy ? "running…" : "Compare"}
        </button>
        <button data-testid="whatif-flow" disabled={busy || bad} onClick={() => void study("flow")} title="No fault: the power flow of B's configuration next to the live one">
          Power flow: B vs live
        </button>
        <button data-testid="whatif-n1" disabled={busy || bad} onClick={() => void study("n1")} title="Every line segment out, one at a time, on B's configuration">
          N-1 on B
        </button>
      </div>
      {message && <div className="notice error" data-testid="compare-error">{message}</div>}
      {out && <CompareResult out={out} />}
      {flow && <FlowResult out={flow} />}
      {n1 && <NMinus1Result out={n1} />}
    </div>
  );
}
