/** UI choices: palette, which side panel is open, and an optional external basemap style URL. */
import type { PaletteName } from "../map/palette";
import { createStore } from "./store";
import { DEFAULT_TIME_ZONE, isTimeZone } from "../features/common/format";

export type PanelTab = "outages" | "alarms" | "workorders" | "ami" | "health" | "cascade" | "switching" | "assistant" | "risk" | "layers";

export interface UiState {
  palette: PaletteName;
  /** IANA zone every time is shown in (the utility's), with its abbreviation */
  timeZone: string;
  tab: PanelTab;
  /** empty: our own offline style */
  basemapStyleUrl: string;
}

export const initialUi: UiState = { palette: "default", timeZone: DEFAULT_TIME_ZONE, tab: "outages", basemapStyleUrl: "" };

export const setPalette = (s: UiState, palette: PaletteName): UiState => (s.palette === palette ? s : { ...s, palette });
export const setTab = (s: UiState, tab: PanelTab): UiState => (s.tab === tab ? s : { ...s, tab });
export const setBasemapStyleUrl = (s: UiState, url: string): UiState => ({ ...s, basemapStyleUrl: url.trim() });

/** Keeps the old zone when `tz` is not an IANA zone the browser knows. */
export const setTimeZone = (s: UiState, tz: string): UiState => (tz === s.timeZone || !isTimeZone(tz) ? s : { ...s, timeZone: tz });

export const uiStore = createStore<UiState>(initialUi);
