/** The switching, what-if and compare routes (`fluxops.api.routes.switching`), typed narrowly. */
import { getJson, sendJson } from "../../api/client";
import type {
  CompareOut,
  DeviceSwitching,
  NMinus1Out,
  WhatIfFlowOut,
  OrderStep,
  ProposedState,
  SwitchAction,
  SwitchingCheck,
  SwitchingOrder,
  SwitchingStates,
  SwitchOperation,
} from "./switching";

const enc = encodeURIComponent;

export interface CompareSideIn {
  label?: string;
  patient_zero?: string[];
  scenario?: string;
  switch_states?: ProposedState[];
  seed?: number;
}

export const switchingApi = {
  device: (id: string) => getJson<DeviceSwitching>(`/api/devices/${enc(id)}/switching`, { limit: 10 }),
  operate: (id: string, action: SwitchAction, reason: string, force = false) =>
    sendJson<{ operation: SwitchOperation; configuration_hash: string; check: SwitchingCheck }>(
      "POST",
      `/api/devices/${enc(id)}/${action}`,
      { reason, force },
    ),
  check: (steps: OrderStep[]) => sendJson<SwitchingCheck>("POST", "/api/switching/check", { steps: steps.map(({ device_id, action }) => ({ device_id, action })) }),
  states: () => getJson<SwitchingStates>("/api/switching/states"),
  log: (limit = 50) => getJson<{ operations: SwitchOperation[] }>("/api/switching/log", { limit }),
  orders: () => getJson<{ orders: SwitchingOrder[] }>("/api/switching/orders", { limit: 50 }),
  createOrder: (title: string, reason: string, steps: OrderStep[]) =>
    sendJson<SwitchingOrder>("POST", "/api/switching/orders", { title, reason, steps: steps.map(({ device_id, action }) => ({ device_id, action })) }),
  validateOrder: (id: string) => sendJson<SwitchingCheck>("POST", `/api/switching/orders/${enc(id)}/validate`),
  orderAction: (id: string, action: "approve" | "execute" | "cancel") =>
    sendJson<SwitchingOrder>("POST", `/api/switching/orders/${enc(id)}/${action}`),
  whatifFlow: (switch_states: ProposedState[], scenario: string) =>
    sendJson<WhatIfFlowOut>("POST", "/api/whatif/powerflow", { switch_states, scenario, limit: 20 }),
  whatifN1: (switch_states: ProposedState[], scenario: string) =>
    sendJson<NMinus1Out>("POST", "/api/whatif/n-1", { switch_states, scenario, limit: 10 }),
  compare: (a: CompareSideIn, b: CompareSideIn) => sendJson<CompareOut>("POST", "/api/cascade/compare", { a, b }),
};
