/**
 * How long deck.gl takes to draw a frame here, and so whether a camera animation can be seen at all.
 *
 * Why: a 400 ms flight is smooth on a GPU (25 frames) but under a software renderer (SwiftShader, a VM
 * without a GPU) each frame takes 100+ ms, so the "flight" is two or three stills that hold the main
 * thread and arrive late (issue 10 §3: fly-to ≤ 500 ms). Where frames are that slow the camera jumps.
 */

/** Flight length where frames are fast enough to animate. */
export const FLY_MS = 350;
/** Median draw time above which an animation would be a few stills: jump instead. */
export const SLOW_FRAME_MS = 40;
const KEEP = 9;

const recent: number[] = [];

/**
 * Call as deck.gl starts drawing; the frame counts until the browser can run the next animation
 * callback. Why not the draw call alone: WebGL commands run in the GPU process, so under SwiftShader the
 * cost shows as the main thread waiting for the next frame, not inside deck.gl's draw.
 */
let started = -1;
export function frameStarted(): void {
  started = performance.now();
}

export function frameDrawn(): void {
  const t0 = started;
  if (t0 < 0) return;
  started = -1;
  requestAnimationFrame(() => recordFrame(performance.now() - t0));
}

export function recordFrame(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  recent.push(ms);
  if (recent.length > KEEP) recent.shift();
}

/** Median of the given draw times (ms); null when there are none. Pure. */
export function medianMs(times: readonly number[]): number | null {
  if (times.length === 0) return null;
  const s = [...times].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The camera move's duration for draw times like these: FLY_MS, or 0 (jump) on a slow renderer. Pure. */
export function flightMsFor(times: readonly number[]): number {
  const m = medianMs(times);
  return m !== null && m > SLOW_FRAME_MS ? 0 : FLY_MS;
}

export function flightMs(): number {
  return flightMsFor(recent);
}
