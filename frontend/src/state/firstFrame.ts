/**
 * The grid's first frame on screen, as a promise: requests the map does not need (header figures, the
 * caller's role, crews, reliability) start after it, so they neither compete with the map payload for the
 * server and the browser's six connections nor run their renders during the first frame (issue 10 §3).
 */
let resolveDrawn: () => void = () => undefined;
const drawn = new Promise<void>((resolve) => {
  resolveDrawn = resolve;
});

/** MapView: the grid (or, in tile-only mode, its tiles) has been drawn. */
export function gridDrawn(): void {
  resolveDrawn();
}

/** Resolves once the grid's first frame is drawn, or after `capMs` (a map that fails must not starve panels). */
export function afterGridDrawn(capMs = 4000): Promise<void> {
  return Promise.race([drawn, new Promise<void>((resolve) => setTimeout(resolve, capMs))]);
}
