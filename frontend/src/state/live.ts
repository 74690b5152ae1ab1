/**
 * Live header figures (KPIs, reliability, crews) and the stream's health. The SSE stream nudges a
 * refresh; it never replaces figures with numbers it computed itself.
 */
import { createStore } from "./store";

export type Json = Record<string, unknown>;

export interface LiveState {
  kpis: Json | null;
  reliability: Json | null;
  crews: Json[] | null;
  /** the outage engine's figures (customers out, active outages), from /api/outages */
  opsKpis: Json | null;
  /** system load from AMI: the sum of substations' kW in the latest hour with readings */
  amiLoad: { kw: number; hour: string } | null;
  /** AMI kW per feeder id in the latest complete hour */
  amiFeederKw: Map<string, number> | null;
  streamConnected: boolean;
  lastEventUtc: string | null;
  /** bumped on every stream event that should make panels refetch */
  revision: number;
  errors: Record<string, string>;
}

export const initialLive: LiveState = {
  kpis: null,
  reliability: null,
  crews: null,
  opsKpis: null,
  amiLoad: null,
  amiFeederKw: null,
  streamConnected: false,
  lastEventUtc: null,
  revision: 0,
  errors: {},
};

export function setPart<K extends "kpis" | "reliability" | "crews" | "opsKpis" | "amiLoad" | "amiFeederKw">(
  s: LiveState,
  key: K,
  value: LiveState[K],
): LiveState {
  const errors = { ...s.errors };
  delete errors[key];
  return { ...s, [key]: value, errors };
}

export function setError(s: LiveState, key: string, message: string): LiveState {
  return { ...s, errors: { ...s.errors, [key]: message } };
}

export function streamEvent(s: LiveState, atUtc: string): LiveState {
  return { ...s, lastEventUtc: atUtc, revision: s.revision + 1, streamConnected: true };
}

/** Something this tab changed (an outage action, a new work order): panels that read it refetch. */
export function bumpRevision(s: LiveState): LiveState {
  return { ...s, revision: s.revision + 1 };
}

export function setConnected(s: LiveState, connected: boolean): LiveState {
  return s.streamConnected === connected ? s : { ...s, streamConnected: connected };
}

export const liveStore = createStore<LiveState>(initialLive);
