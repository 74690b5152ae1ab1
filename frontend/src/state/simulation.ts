/**
 * Simulation mode: a cascade result is on screen only while the operator is in the cascade
 * workspace. There the live map is greyed, the waves are drawn in their own palette and a banner says
 * so; leaving the workspace (any other tab, or the banner's exit) returns to the live map, keeping the
 * result for when the operator comes back.
 */
import type { PanelTab } from "./ui";

export function isSimulating(tab: PanelTab, cascadeNodes: number): boolean {
  return tab === "cascade" && cascadeNodes > 0;
}
