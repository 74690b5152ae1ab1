/**
 * Loading of feeder lines, per feeder: the backend's design-peak loading of the feeder's most loaded
 * segment (`/api/feeders` max_segment_loading_pct, from its own load-flow estimate), scaled by the
 * feeder's AMI demand against its design peak (`/api/ami/feeders/load`, latest complete hour) when
 * AMI readings exist. Per feeder, not per segment: every segment of a feeder shows the feeder's figure.
 */
import type { MapAssets } from "./assets";

export interface FeederDesign {
  maxSegmentLoadingPct: number;
  peakKw: number;
}

export function feederLoadingPct(
  a: MapAssets,
  design: Map<string, FeederDesign>,
  amiKw: Map<string, number> | null,
): Float32Array {
  const out = new Float32Array(a.feederIds.length).fill(Number.NaN);
  a.feederIds.forEach((fid, k) => {
    const d = design.get(fid);
    if (!d || !Number.isFinite(d.maxSegmentLoadingPct)) return;
    if (amiKw === null) {
      out[k] = d.maxSegmentLoadingPct;
      return;
    }
    const kw = amiKw.get(fid);
    if (kw !== undefined && d.peakKw > 0) out[k] = (d.maxSegmentLoadingPct * kw) / d.peakKw;
  });
  return out;
}

/** Live loading per map row with feeder lines (and feeders) filled from their feeder's loading. */
export function withFeederLoading(a: MapAssets, live: Float32Array | null, perFeeder: Float32Array | null): Float32Array | null {
  if (!perFeeder) return live;
  const out = live ? live.slice() : new Float32Array(a.count).fill(Number.NaN);
  const seg = a.typeNames.indexOf("line_segment");
  const fdr = a.typeNames.indexOf("feeder");
  for (let i = 0; i < a.count; i++) {
    const t = a.typeCode[i];
    if ((t === seg || t === fdr) && Number.isNaN(out[i]) && a.feederCode[i] >= 0) out[i] = perFeeder[a.feederCode[i]];
  }
  return out;
}
