/**
 * What the operator is looking at: the selected asset (inspector) and the pending camera move.
 * `flyTo` carries a sequence number so asking twice for the same place still moves the camera.
 */
import { createStore } from "./store";

export interface FlyTo {
  lon: number;
  lat: number;
  zoom: number;
  seq: number;
}

export interface SelectionState {
  selectedId: string | null;
  flyTo: FlyTo | null;
}

export const initialSelection: SelectionState = { selectedId: null, flyTo: null };

export function selectAsset(s: SelectionState, id: string | null): SelectionState {
  return s.selectedId === id ? s : { ...s, selectedId: id };
}

export function requestFlyTo(s: SelectionState, lon: number, lat: number, zoom: number): SelectionState {
  return { ...s, flyTo: { lon, lat, zoom, seq: (s.flyTo?.seq ?? 0) + 1 } };
}

export const selectionStore = createStore<SelectionState>(initialSelection);
