/**
 * What the operator is looking at: the selected asset (inspector) and the pending camera move.
 * `flyTo` carries a sequence number so asking twice for the same place still moves the camera.
 *
 * A camera move that follows a new selection waits for that asset's inspector to paint its details
 * (`after`): under a software renderer every frame of a flight holds the main thread for hundreds of
 * milliseconds, and the answer the operator asked for is the details, not the animation (issue 10 §3:
 * inspector ≤ 300 ms). The map view flies once `painted` names the asset, or after a short cap.
 */
import { createStore } from "./store";

export interface FlyTo {
  lon: number;
  lat: number;
  zoom: number;
  seq: number;
  /** the asset whose inspector paints before the camera moves; null: move now */
  after: string | null;
}

export interface SelectionState {
  selectedId: string | null;
  flyTo: FlyTo | null;
  /** the asset whose details the inspector has on screen (painted) */
  painted: string | null;
}

export const initialSelection: SelectionState = { selectedId: null, flyTo: null, painted: null };

export function selectAsset(s: SelectionState, id: string | null): SelectionState {
  return s.selectedId === id ? s : { ...s, selectedId: id };
}

/** A camera move; after a selection whose inspector has not painted yet, it waits for that paint. */
export function requestFlyTo(s: SelectionState, lon: number, lat: number, zoom: number): SelectionState {
  const after = s.selectedId !== null && s.painted !== s.selectedId ? s.selectedId : null;
  return { ...s, flyTo: { lon, lat, zoom, seq: (s.flyTo?.seq ?? 0) + 1, after } };
}

/** The inspector has painted this asset's details (or its error): a waiting camera move may go. */
export function inspectorPainted(s: SelectionState, id: string): SelectionState {
  return s.painted === id ? s : { ...s, painted: id };
}

/** Whether the pending camera move may start now (its inspector painted, or nothing to wait for). */
export function flightReady(s: SelectionState): boolean {
  const f = s.flyTo;
  return f !== null && (f.after === null || f.after !== s.selectedId || s.painted === f.after);
}

export const selectionStore = createStore<SelectionState>(initialSelection);
