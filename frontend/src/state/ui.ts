/** UI choices: palette, which side panel is open, and an optional external basemap style URL. */
import type { PaletteName } from "../map/palette";
import { createStore } from "./store";

export type PanelTab = "outages" | "workorders" | "ami" | "health" | "cascade";

export interface UiState {
  palette: PaletteName;
  tab: PanelTab;
  /** empty: our own offline style */
  basemapStyleUrl: string;
}

export const initialUi: UiState = { palette: "default", tab: "outages", basemapStyleUrl: "" };

export const setPalette = (s: UiState, palette: PaletteName): UiState => (s.palette === palette ? s : { ...s, palette });
export const setTab = (s: UiState, tab: PanelTab): UiState => (s.tab === tab ? s : { ...s, tab });
export const setBasemapStyleUrl = (s: UiState, url: string): UiState => ({ ...s, basemapStyleUrl: url.trim() });

export const uiStore = createStore<UiState>(initialUi);
