/**
 * Where each crew is on the map: at its home base (`/api/crews` lon/lat), or at the asset of the
 * work order it holds — dispatched (work order assigned) or on site (in progress). Positions come
 * from the map payload (or the meters, once loaded); a work site not on the map leaves the crew at
 * its base, and the tooltip says so. Pure, so the rule is tested once.
 */
import type { Json } from "../api/endpoints";

export type CrewWhere = "base" | "dispatched" | "on site";

export interface CrewPoint {
  crewId: string;
  name: string;
  skills: string;
  /** the roster status: available / assigned / off_shift */
  status: string;
  where: CrewWhere;
  workOrderId: string | null;
  assetId: string | null;
  lon: number;
  lat: number;
  /** the work order's asset has no position on the map: drawn at the base */
  siteUnknown: boolean;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const text = (v: unknown): string => (typeof v === "string" ? v : "");

/** Newest active work order per crew (in progress before assigned). */
function activeOrders(workOrders: Json[]): Map<string, Json> {
  const rank = (w: Json) => (w.status === "in_progress" ? 2 : w.status === "assigned" ? 1 : 0);
  const by = new Map<string, Json>();
  for (const w of workOrders) {
    const crew = text(w.crew_id);
    if (!crew || rank(w) === 0) continue;
    const prev = by.get(crew);
    if (!prev || rank(w) > rank(prev) || (rank(w) === rank(prev) && text(w.updated_utc) > text(prev.updated_utc))) by.set(crew, w);
  }
  return by;
}

export function crewPoints(crews: Json[], workOrders: Json[], position: (assetId: string) => [number, number] | null): CrewPoint[] {
  const orders = activeOrders(workOrders);
  const out: CrewPoint[] = [];
  for (const c of crews) {
    const crewId = text(c.crew_id);
    const baseLon = num(c.lon);
    const baseLat = num(c.lat);
    const w = orders.get(crewId);
    const assetId = w ? text(w.asset_id) || null : null;
    const site = assetId ? position(assetId) : null;
    const where: CrewWhere = !w ? "base" : w.status === "in_progress" ? "on site" : "dispatched";
    const [lon, lat] = site ?? [baseLon, baseLat];
    if (lon === null || lat === null) continue; // no base recorded and no site: nothing honest to draw
    out.push({
      crewId,
      name: text(c.name),
      skills: text(c.skills),
      status: text(c.status),
      where,
      workOrderId: w ? text(w.work_order_id) : null,
      assetId,
      lon,
      lat,
      siteUnknown: w !== undefined && site === null,
    });
  }
  return out;
}

export function crewTooltip(p: CrewPoint): string {
  const lines = [`crew ${p.crewId}${p.name ? ` — ${p.name}` : ""}`, `skill: ${p.skills ? p.skills.replace(/,/g, ", ") : "not recorded"}`];
  lines.push(`status: ${p.status.replace(/_/g, " ")}${p.where === "base" ? " · at base" : ` · ${p.where}`}`);
  if (p.workOrderId) lines.push(`work order ${p.workOrderId}${p.assetId ? ` at ${p.assetId}` : ""}${p.siteUnknown ? " (site not on the map: drawn at base)" : ""}`);
  else lines.push("work order: none");
  return lines.join("\n");
}

/** Colour by where the crew is: at base (slate), dispatched (amber), on site (green). */
export const CREW_COLOURS: Record<CrewWhere, [number, number, number, number]> = {
  base: [148, 163, 184, 255],
  dispatched: [251, 191, 36, 255],
  "on site": [34, 197, 94, 255],
};
