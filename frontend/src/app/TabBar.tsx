/**
 * The side panel's tab bar: one row of equal-width tabs, each an icon over a short label, the full
 * name in the tooltip. Data-driven from the `TABS` list in `App.tsx`, so a new panel is one entry
 * there (and its id in `PanelTab`, `state/ui.ts`). Icons are inline SVG (the UI makes no request off
 * the host and ships no icon font).
 */
import type { ReactNode } from "react";
import type { PanelTab } from "../state/ui";

/** What a panel body may need from the shell (the cascade workspace picks a patient zero on the map). */
export interface TabContext {
  picking: boolean;
  onPickOnMap: () => void;
}

export interface TabSpec {
  id: PanelTab;
  /** full name: tooltip, aria-label */
  label: string;
  /** shown under the icon; 7 characters at most so 10+ tabs fit one row at 1366×768 */
  short: string;
  icon: IconName;
  render: (ctx: TabContext) => ReactNode;
}

/** 16×16 stroke paths; spare ones (risk, assistant, layers) are here for the panels being added. */
const ICONS = {
  outages: "M9 1 3 9h4l-1 6 6-8H8l1-6z",
  alarms: "M8 2a4 4 0 0 0-4 4v3l-1.5 2.5h11L12 9V6a4 4 0 0 0-4-4zM6.5 13.5a1.5 1.5 0 0 0 3 0",
  workorders: "M10.5 2.5a3 3 0 0 0-3.8 3.8L2.5 10.5l2.9 2.9 4.2-4.2a3 3 0 0 0 3.8-3.8l-2 2-1.8-.2-.2-1.8z",
  ami: "M2 14h12M4 12V8M7 12V4M10 12V7M13 12V5",
  health: "M1.5 8h3l1.5-3 2.5 6 1.5-3h4.5",
  cascade: "M8 2v3M8 5 4 9M8 5l4 4M4 9v3M12 9v3M4 12h0M12 12h0M2.5 13.5h3M10.5 13.5h3",
  switching: "M2 10h3l6-5M11 10h3M11 5h3",
  risk: "M8 2 1.5 13.5h13zM8 6.5v3.5M8 11.8v.2",
  assistant: "M2.5 3h11v7.5H7L4 13v-2.5H2.5z",
  layers: "M8 2 1.5 5.5 8 9l6.5-3.5zM1.5 8.5 8 12l6.5-3.5M1.5 11 8 14.5l6.5-3.5",
  panel: "M2.5 2.5h11v11h-11zM2.5 6h11",
} as const;

export type IconName = keyof typeof ICONS;

export function TabIcon({ name }: { name: IconName }) {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" className="tab-icon">
      <path d={ICONS[name]} fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function TabBar({ tabs, active, onSelect }: { tabs: readonly TabSpec[]; active: PanelTab; onSelect: (t: PanelTab) => void }) {
  return (
    <nav className="tab-bar" role="tablist" data-testid="tab-bar">
      {tabs.map((t) => (
        <button
          key={t.id}
          role="tab"
          aria-selected={active === t.id}
          aria-label={t.label}
          title={t.label}
          data-testid={`tab-${t.id}`}
          className={active === t.id ? "active" : ""}
          onClick={() => onSelect(t.id)}
        >
          <TabIcon name={t.icon} />
          <span className="tab-label">{t.short}</span>
        </button>
      ))}
    </nav>
  );
}
