/**
 * Cascade workspace: patient zero (picked on the map or from the candidates), scenario and
 * parameters, run; the waves animate on the map; per-wave breakdown; analysis tabs; risk badge.
 */
import { useEffect } from "react";
import { api, fmt, listOf, num, str, type Json } from "../../api/endpoints";
import { useApi, describeError } from "../../api/useApi";
import { Missing, PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { cascadeStore, clearCascade, focusWave, pickPatientZero, replay, resultPatientZero, runFailed, setResult, startRun, tick } from "../../state/cascade";
import { cascadeFormStore, setFormField } from "../../state/cascadeForm";
import { jobFailed, jobIdOf, nodesOf, resultOf, wavesOf } from "./cascadeResult";
import { CascadeTabs } from "./CascadeTabs";
import { frameIds } from "../outages/OutagesPanel";
import { requestFlyTo, selectionStore } from "../../state/selection";
import { waveColour, rgbaCss } from "../../map/palette";
import { scenarioLabel } from "../common/labels";
import { ExportButton } from "../export/ExportButton";
import { RISK_LEVELS_TEXT, riskTerms } from "../common/explain";
import { OpButton } from "../common/OpButton";

/** Seconds per wave in the animation (seed §5.4 used 0.9 s per wave). */
const WAVE_MS = 900;

async function simulate(body: Json): Promise<Json> {
  let res: Json = await api.cascadePost("simulate", body);
  const job = jobIdOf(res);
  // Long runs come back as a job: poll it until it holds the result.
  for (let i = 0; job && !resultOf(res) && i < 600; i++) {
    const failed = jobFailed(res);
    if (failed) throw new Error(failed);
    await new Promise((r) => setTimeout(r, 500));
    res = await api.job(job);
  }
  const result = resultOf(res);
  if (!result) throw new Error(jobFailed(res) ?? "the simulation returned no result");
  return result;
}

export function RiskBadge() {
  const risk = useApi(() => api.cascadeGet("realtime-risk"), []);
  useEffect(() => {
    const t = setInterval(risk.reload, 30_000);
    return () => clearInterval(t);
  }, [risk.reload]);
  if (risk.missing || risk.error || !risk.data || Array.isArray(risk.data)) return null;
  const d = risk.data;
  const rows = riskTerms(d);
  return (
    <details className="risk-explain" data-testid="risk-explain">
      <summary>
        <span className={`badge risk-${str(d.level, "").toLowerCase()}`} data-testid="risk-badge">
          risk index {fmt(d.index, 0)} · {str(d.level)}
        </span>{" "}
        <span className="muted small">what is this?</span>
      </summary>
      <table className="data small">
        <thead>
          <tr>
            <th>term</th>
            <th>value</th>
            <th>weight</th>
            <th>points</th>
            <th>from</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.term} data-testid="risk-term">
              <td>{r.label}</td>
              <td>{fmt(r.value, 2)}</td>
              <td>{fmt(r.weight, 2)}</td>
              <td>{fmt(r.points, 1)}</td>
              <td className="muted">{r.basis}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="muted small">
        Index {RISK_LEVELS_TEXT} Each term is a share from 0 to 1 of measured quantities (AMI loading, the weather model's ambient, the outage engine, the
        substation N-1 check), not a probability of failure.
      </div>
    </details>
  );
}

export function CascadeWorkspace({ onPickOnMap, picking }: { onPickOnMap: () => void; picking: boolean }) {
  const cas = useStore(cascadeStore);
  const scenarios = useApi(() => api.cascadeGet("scenarios"), []);
  // scenario and overrides live in a store: they survive leaving the Cascade tab
  const form = useStore(cascadeFormStore);
  const scenario = form.scenario;
  const params = form.overrides;
  const setScenario = (v: string) => cascadeFormStore.update((s) => setFormField(s, "scenario", v));
  const setParams = (v: string) => cascadeFormStore.update((s) => setFormField(s, "overrides", v));
  const candidates = useApi(() => api.cascadeGet("patient-zero-candidates", { limit: 15, scenario: scenario || undefined }), [scenario]);
  const computing = !Array.isArray(candidates.data) && candidates.data?.status === "computing";
  // The N-1 screening behind the candidates runs as a job the first time; look again until it is stored.
  useEffect(() => {
    if (!computing) return;
    const t = setTimeout(candidates.reload, 5000);
    return () => clearTimeout(t);
  }, [computing, candidates.reload, candidates.data]);

  useEffect(() => {
    if (!cas.playing) return;
    const t = setInterval(() => cascadeStore.update(tick), WAVE_MS);
    return () => clearInterval(t);
  }, [cas.playing]);

  if (scenarios.missing && candidates.missing) return <Missing what="the cascade model (/api/cascade/…)" />;
  const scenarioList = listOf(scenarios.data, "scenarios");
  const names = scenarioList.map((x) => str(x.name));
  const chosenScenario = scenario || (names.includes("summer_peak") ? "summer_peak" : (names[0] ?? "normal"));

  const run = async () => {
    if (!cas.patientZero) return;
    cascadeStore.update(startRun);
    try {
      const body: Json = { patient_zero: [cas.patientZero], scenario: chosenScenario };
      if (params.trim()) body.overrides = JSON.parse(params) as Json;
      const result = await simulate(body);
      const nodes = nodesOf(result);
      cascadeStore.update((s) => setResult(s, result, nodes, body));
      const f = frameIds(nodes.map((n) => n.node_id));
      if (f) selectionStore.update((s) => requestFlyTo(s, f.lon, f.lat, f.zoom));
    } catch (e) {
      cascadeStore.update((s) => runFailed(s, describeError(e).message));
    }
  };

  const waves = cas.result ? wavesOf(cas.result) : [];
  const totals = (cas.result?.totals ?? null) as Json | null;
  const maxLost = Math.max(1, ...waves.map((w) => w.lost));
  return (
    <div className="cascade" data-testid="cascade-panel">
      <div className="row">
        <RiskBadge />
      </div>
      <div className="field">
        <label>Patient zero</label>
        <div className="row">
          <input
            data-testid="patient-zero"
            value={cas.patientZero ?? ""}
            placeholder="asset id"
            onChange={(e) => cascadeStore.update((s) => pickPatientZero(s, e.target.value || null))}
          />
          <button className={picking ? "active" : ""} onClick={onPickOnMap}>
            {picking ? "click the map…" : "pick on map"}
          </button>
        </div>
      </div>
      <PanelState loading={candidates.loading} hasData={candidates.data !== null} error={candidates.error} missing={candidates.missing} what="patient-zero candidates">
        {computing && <div className="notice">N-1 screening for {chosenScenario} is running (first time on this grid); candidates appear when it finishes.</div>}
        <details open={!cas.result}>
          <summary>Candidates by expected customer-minutes ({listOf(candidates.data, "candidates").length})</summary>
          <ul className="candidates" data-testid="candidates">
            {listOf(candidates.data, "candidates").map((c) => {
              const id = str(c.element_id);
              return (
                <li key={id} onClick={() => cascadeStore.update((s) => pickPatientZero(s, id))} className={cas.patientZero === id ? "selected" : ""} data-testid="candidate">
                  {id}{" "}
                  <span className="muted">
                    {str(c.element_type, "")} · {fmt(c.customers_out)} cust. · {fmt(c.risk_customer_minutes, 0)} risk cust-min/yr
                  </span>
                </li>
              );
            })}
          </ul>
        </details>
      </PanelState>
      <div className="field">
        <label>Scenario</label>
        <select value={chosenScenario} onChange={(e) => setScenario(e.target.value)} data-testid="scenario">
          {scenarioList.map((s) => {
            const name = str(s.name);
            return (
              <option key={name} value={name} title={str(s.description, "")}>
                {scenarioLabel(name, num(s.ambient_temp_c))} · load × {fmt(s.load_multiplier, 2)}
              </option>
            );
          })}
        </select>
        <textarea placeholder='scenario overrides as JSON, e.g. {"ambient_temp_c": 40, "load_multiplier": 1.1}' value={params} onChange={(e) => setParams(e.target.value)} rows={2} />
      </div>
      <div className="row">
        <OpButton data-testid="run-cascade" disabled={!cas.patientZero || cas.running} onClick={() => void run()}>
          {cas.running ? "running…" : "Run cascade"}
        </OpButton>
        {cas.result && <button onClick={() => cascadeStore.update(replay)}>replay</button>}
        {cas.result && <button onClick={() => cascadeStore.update(clearCascade)}>clear</button>}
      </div>
      {cas.error && <div className="notice error">{cas.error}</div>}
      {cas.result && (
        <>
          <div className="chips" data-testid="cascade-summary">
            <span className="chip" data-testid="result-patient-zero">
              from {resultPatientZero(cas) ?? "—"}
              {typeof cas.inputs?.scenario === "string" ? ` · ${scenarioLabel(cas.inputs.scenario, null)}` : ""}
            </span>
            <span className="chip">waves {waves.length}</span>
            <span className="chip">elements lost {fmt(totals?.elements_lost)}</span>
            <span className="chip">customers out {fmt(totals?.customers_out)}</span>
            <span className="chip">peak {fmt(totals?.peak_customers_out)}</span>
            <span className="chip warn">critical {fmt(totals?.critical_out)}</span>
            <span className="chip">{fmt(totals?.p_mw_out, 2)} MW</span>
            <span className="chip">{fmt(totals?.mwh_unserved, 1)} MWh unserved</span>
            <ExportButton
              source={{ path: "/api/cascade/simulate", method: "POST", body: cas.inputs ?? {}, query: { list: "waves.lost" } }}
              geo={false}
            />
          </div>
          <div className="waves" data-testid="wave-breakdown">
            {waves.map((w) => (
              <div
                key={w.wave}
                className={`wave ${cas.focusWave === w.wave ? "focus" : ""} ${w.wave <= cas.currentWave ? "" : "pending"}`}
                onClick={() => cascadeStore.update((s) => focusWave(s, w.wave))}
                data-testid="wave-row"
              >
                <span className="swatch" style={{ background: rgbaCss(waveColour(w.wave)) }} />
                <span className="wave-label">
                  wave {w.wave} {w.label} {w.timeMin !== null ? `@${fmt(w.timeMin, 1)} min` : ""}
                </span>
                <span className="bar" style={{ width: `${(100 * w.lost) / maxLost}%`, background: rgbaCss(waveColour(w.wave)) }} />
                <span className="muted">
                  {w.lost} lost{w.restored ? `, ${w.restored} restored` : ""} · {Object.entries(w.causes).map(([c, n]) => `${c} ${n}`).join(", ")}
                </span>
              </div>
            ))}
          </div>
          <CascadeTabs result={cas.result} inputs={cas.inputs ?? {}} nodeIds={cas.nodes.map((n) => n.node_id)} />
        </>
      )}
    </div>
  );
}
