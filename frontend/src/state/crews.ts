/** The crew roster and the active (assigned / in progress) work orders that place crews on the map. */
import type { Json } from "../api/endpoints";
import { createStore } from "./store";

export interface CrewsState {
  crews: Json[];
  workOrders: Json[];
  loaded: boolean;
}

export const crewsStore = createStore<CrewsState>({ crews: [], workOrders: [], loaded: false });
