/**
 * The whole-grid power flow's answer (`/api/grid/loading`), decoded, with its ETag so an unchanged
 * answer is not decoded again, and the reason when it is unavailable (the legend says so).
 */
import type { GridLoadingRows } from "../map/gridLoading";
import { createStore } from "./store";

export interface GridLoadingState {
  rows: GridLoadingRows | null;
  etag: string | null;
  /** "missing" when the server has no such endpoint; a message on other failures */
  error: string | null;
}

export const initialGridLoading: GridLoadingState = { rows: null, etag: null, error: null };

export const gridLoadingStore = createStore<GridLoadingState>(initialGridLoading);
