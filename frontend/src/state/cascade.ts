/**
 * The cascade workspace: the chosen patient zero, the last result, and the wave animation cursor.
 * The animation advances one wave per tick and holds on the last wave (seed §5.4: 0.9 s per wave).
 */
import { createStore } from "./store";

export interface CascadeNode {
  node_id: string;
  wave: number;
  cause_id: string | null;
  cause: string | null;
}

export interface CascadeState {
  patientZero: string | null;
  /** raw result as returned by the API (shown in the tabs) */
  result: Record<string, unknown> | null;
  /** the simulate request that produced `result`; the analysis tabs re-send it */
  inputs: Record<string, unknown> | null;
  nodes: CascadeNode[];
  waveCount: number;
  currentWave: number;
  focusWave: number;
  playing: boolean;
  running: boolean;
  error: string | null;
}

export const initialCascade: CascadeState = {
  patientZero: null,
  result: null,
  inputs: null,
  nodes: [],
  waveCount: 0,
  currentWave: -1,
  focusWave: -1,
  playing: false,
  running: false,
  error: null,
};

export function pickPatientZero(s: CascadeState, id: string | null): CascadeState {
  return { ...s, patientZero: id };
}

export function startRun(s: CascadeState): CascadeState {
  return { ...s, running: true, error: null };
}

export function runFailed(s: CascadeState, error: string): CascadeState {
  return { ...s, running: false, error };
}

export function setResult(
  s: CascadeState,
  result: Record<string, unknown>,
  nodes: CascadeNode[],
  inputs: Record<string, unknown> | null = null,
): CascadeState {
  const waveCount = nodes.reduce((m, n) => Math.max(m, n.wave + 1), 0);
  return { ...s, result, inputs, nodes, waveCount, currentWave: 0, focusWave: -1, playing: waveCount > 1, running: false, error: null };
}

export function tick(s: CascadeState): CascadeState {
  if (!s.playing) return s;
  if (s.currentWave + 1 >= s.waveCount) return { ...s, playing: false };
  return { ...s, currentWave: s.currentWave + 1 };
}

export function replay(s: CascadeState): CascadeState {
  return s.waveCount === 0 ? s : { ...s, currentWave: 0, playing: s.waveCount > 1, focusWave: -1 };
}

export function focusWave(s: CascadeState, wave: number): CascadeState {
  return { ...s, focusWave: s.focusWave === wave ? -1 : wave, currentWave: Math.max(s.currentWave, wave), playing: false };
}

export function clearCascade(s: CascadeState): CascadeState {
  return { ...initialCascade, patientZero: s.patientZero };
}

/** The patient zero of the shown result (from the request that produced it), whatever the field says now. */
export function resultPatientZero(s: CascadeState): string | null {
  const pz = s.inputs?.patient_zero;
  if (Array.isArray(pz)) return pz.length ? pz.map(String).join(", ") : null;
  return typeof pz === "string" ? pz : null;
}

/** Counts per wave, for the breakdown bars. */
export function waveCounts(s: CascadeState): number[] {
  const counts = new Array<number>(s.waveCount).fill(0);
  for (const n of s.nodes) counts[n.wave]++;
  return counts;
}

export const cascadeStore = createStore<CascadeState>(initialCascade);
