/**
 * From a cascade result (fluxops.cascade.models.CascadeResult.to_dict) to the per-element list the
 * map animates. Pure. Elements re-energized by FLISR in a wave are not "failed" and are left out.
 */
import { num, str, type Json } from "../../api/endpoints";
import type { CascadeNode } from "../../state/cascade";

export interface WaveSummary {
  wave: number;
  label: string;
  timeMin: number | null;
  lost: number;
  restored: number;
  customersOutNew: number | null;
  customersOut: number | null;
  pKwOut: number | null;
  causes: Record<string, number>;
}

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

export function nodesOf(result: Json): CascadeNode[] {
  const nodes: CascadeNode[] = [];
  const seen = new Set<string>();
  for (const id of Array.isArray(result.patient_zero) ? (result.patient_zero as unknown[]) : []) {
    const s = String(id);
    if (!seen.has(s)) {
      seen.add(s);
      nodes.push({ node_id: s, wave: 0, cause_id: null, cause: "patient zero" });
    }
  }
  for (const w of arr(result.waves)) {
    const wave = num(w.wave) ?? 0;
    for (const l of arr(w.lost)) {
      const id = str(l.element_id ?? l.node_id, "");
      if (!id || seen.has(id) || l.cause === "restored") continue;
      seen.add(id);
      nodes.push({ node_id: id, wave, cause_id: l.cause_id ? str(l.cause_id) : null, cause: l.cause ? str(l.cause) : null });
    }
  }
  return nodes;
}

export function wavesOf(result: Json): WaveSummary[] {
  return arr(result.waves).map((w) => {
    const causes: Record<string, number> = {};
    for (const l of arr(w.lost)) {
      const c = str(l.cause, "unknown");
      causes[c] = (causes[c] ?? 0) + 1;
    }
    return {
      wave: num(w.wave) ?? 0,
      label: str(w.label, ""),
      timeMin: num(w.time_min),
      lost: arr(w.lost).length,
      restored: arr(w.restored).length,
      customersOutNew: num(w.customers_out_new),
      customersOut: num(w.customers_out),
      pKwOut: num(w.p_kw_out),
      causes,
    };
  });
}

/** A job envelope ({job_id, status, result}) or a bare result: the result, or null while pending. */
export function resultOf(body: Json): Json | null {
  if (Array.isArray(body.waves)) return body;
  const r = body.result;
  if (r && typeof r === "object" && Array.isArray((r as Json).waves)) return r as Json;
  return null;
}

export function jobIdOf(body: Json): string | null {
  const id = body.job_id ?? (body.job as Json | undefined)?.job_id;
  return typeof id === "string" ? id : null;
}

export function jobFailed(body: Json): string | null {
  const s = str(body.status, "");
  if (s === "failed" || s === "error") return str(body.error ?? body.message, "job failed");
  return null;
}
