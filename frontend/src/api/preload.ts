/**
 * Requests index.html started before the JavaScript bundle was even parsed (the map's first data: the
 * element count, the map payload, the live state's compact snapshot), handed to the first caller of the
 * same GET and then forgotten.
 *
 * Why: parsing ~2.9 MB of JavaScript takes most of a second on a busy 2-core machine, and the map payload
 * used to wait for React to mount and then for `/api/kpis` (issue 10 §3, first render with live colours
 * ≤ 3 s). The inline script in index.html must stay in step with `PRELOADED_PATHS` and with the
 * tile-mode threshold (features/layers/AssetTileMode.tsx `TILE_MODE_ABOVE`; a unit test checks both).
 */

/** What index.html may have started, by path (exactly as the API client asks for it). */
export const PRELOADED_PATHS = ["/api/kpis", "/api/map/assets", "/api/grid/state?format=compact"] as const;

type Preloaded = Partial<Record<string, Promise<Response>>>;

/** The preloaded answer for this GET path (once), or null: the caller fetches as usual. */
export function takePreloaded(path: string): Promise<Response> | null {
  const w = globalThis as unknown as { __fluxopsPreload?: Preloaded };
  const p = w.__fluxopsPreload?.[path];
  if (!p) return null;
  delete w.__fluxopsPreload![path];
  return p;
}
