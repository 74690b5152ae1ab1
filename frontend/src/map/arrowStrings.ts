/**
 * A string column of an Arrow table as JS strings, decoded one chunk at a time.
 *
 * Why: `vector.get(i)` runs a TextDecoder per row; for the 164K meter ids that was ~0.8 s of a street-zoom
 * first visit on the busy 2-core machine (issue 10 §3). Ids and names are ASCII almost always: one decode
 * of a chunk's whole byte range, then `slice` by its offsets (byte offsets are character offsets when the
 * decoded text is as long as the bytes). Anything else (non-ASCII text, dictionary or large-offset columns)
 * falls back to the per-row path.
 */
import { DataType, type Data, type Vector } from "apache-arrow";

const decoder = new TextDecoder();

export function arrowStrings(col: Vector<DataType> | null, n: number): (string | null)[] {
  const out = new Array<string | null>(n).fill(null);
  if (!col) return out;
  let o = 0;
  for (const d of col.data as Data<DataType>[]) {
    const offsets = d.valueOffsets as Int32Array | undefined;
    const bytes = d.values as Uint8Array | undefined;
    if (DataType.isUtf8(d.type) && offsets instanceof Int32Array && bytes instanceof Uint8Array) {
      const from = offsets[d.offset];
      const to = offsets[d.offset + d.length];
      const text = decoder.decode(bytes.subarray(from, to));
      const ascii = text.length === to - from;
      for (let i = 0; i < d.length && o + i < n; i++) {
        if (!d.getValid(i)) continue;
        const a = offsets[d.offset + i];
        const b = offsets[d.offset + i + 1];
        out[o + i] = ascii ? text.slice(a - from, b - from) : decoder.decode(bytes.subarray(a, b));
      }
    } else {
      for (let i = 0; i < d.length && o + i < n; i++) {
        const v: unknown = col.get(o + i);
        out[o + i] = v === null || v === undefined ? null : String(v);
      }
    }
    o += d.length;
  }
  return out;
}
