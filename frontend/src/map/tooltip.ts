/** Hover text for a picked element: type, id, name and the figure it is coloured by. */
import type { MapDataState } from "../state/mapData";
import type { Picked } from "./picking";
import type { MapAssets } from "./assets";
import type { CascadeNode } from "../state/cascade";
import { crewTooltip, type CrewPoint } from "./crews";

export function tooltipText(p: Picked, d: MapDataState, cascade: CascadeNode[] = [], crews: CrewPoint[] = []): string | null {
  const a = d.assets;
  if (!p || !a) return null;
  if (p.kind === "crew") {
    const c = crews[p.index];
    return c ? crewTooltip(c) : null;
  }
  if (p.kind === "cascade") {
    // Same filter as the cascade layer: only elements that are on the map are drawn.
    const n = cascade.filter((x) => d.byId.has(x.node_id))[p.index];
    return n ? `${n.node_id}\nwave ${n.wave} · ${n.cause ?? "failed"}` : null;
  }
  if (p.kind === "meter") {
    const row = d.meters?.transformerRows[p.index] ?? -1;
    const ph = row >= 0 ? phasesOf(a, row) : null;
    return `meter ${p.id}\ntransformer ${row >= 0 ? a.ids[row] : "—"}${ph ? `\nphases ${ph}` : ""}`;
  }
  if (p.kind !== "asset") return null;
  const r = p.row;
  const lines = [`${a.typeNames[a.typeCode[r]] ?? "asset"} ${a.ids[r]}`];
  if (a.names[r]) lines.push(String(a.names[r]));
  const load = a.loadingPct[r];
  if (!Number.isNaN(load)) lines.push(`loading ${load.toFixed(0)} %`);
  const cust = a.customers[r];
  if (!Number.isNaN(cust)) lines.push(`${cust.toLocaleString()} customers downstream${a.critical[r] ? " (critical)" : ""}`);
  if (!Number.isNaN(a.ratingKva[r])) lines.push(`${a.ratingKva[r].toLocaleString()} kVA`);
  const ph = phasesOf(a, r);
  if (ph) lines.push(`phases ${ph}`);
  if (a.isTie[r]) lines.push("normally-open tie");
  else if (a.isOpen[r]) lines.push("open");
  if (a.feederCode[r] >= 0) lines.push(`feeder ${a.feederIds[a.feederCode[r]]}`);
  return lines.join("\n");
}

/** The element's phases ("A", "BC", "ABC"), or null where the payload has none for it. */
function phasesOf(a: MapAssets, row: number): string | null {
  const k = a.phaseCode?.[row] ?? -1;
  return k >= 0 ? (a.phaseNames?.[k] ?? null) : null;
}

export function tooltipFor(p: Picked, d: MapDataState, cascade: CascadeNode[] = [], crews: CrewPoint[] = []): { text: string; className: string } | null {
  const text = tooltipText(p, d, cascade, crews);
  return text ? { text, className: "map-tooltip" } : null;
}
