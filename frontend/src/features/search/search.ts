/** Search over the loaded payload (ids and names), then the API for meters and customers. Pure part here. */
import type { MapAssets } from "../../map/assets";

export interface Hit {
  id: string;
  label: string;
  row: number;
}

/** Exact id first, then id prefix, then name/id substring; at most `limit` hits. */
export function searchAssets(a: MapAssets, query: string, limit = 8): Hit[] {
  const q = query.trim().toLowerCase();
  if (q.length < 2) return [];
  const exact: Hit[] = [];
  const prefix: Hit[] = [];
  const contains: Hit[] = [];
  for (let i = 0; i < a.count && exact.length + prefix.length + contains.length < limit * 4; i++) {
    const id = a.ids[i].toLowerCase();
    const name = (a.names[i] ?? "").toLowerCase();
    const hit = { id: a.ids[i], label: `${a.typeNames[a.typeCode[i]]} ${a.ids[i]}${a.names[i] ? ` — ${a.names[i]}` : ""}`, row: i };
    if (id === q) exact.push(hit);
    else if (id.startsWith(q)) prefix.push(hit);
    else if (id.includes(q) || name.includes(q)) contains.push(hit);
  }
  return [...exact, ...prefix, ...contains].slice(0, limit);
}

/** Zoom to fly to for an asset type: substations at district scale, equipment at street scale. */
export function zoomFor(type: string): number {
  if (type === "substation") return 13;
  if (type === "feeder") return 12.5;
  if (type === "meter") return 17;
  return 16;
}
