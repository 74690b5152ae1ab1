/** A small map payload built with apache-arrow, shaped like /api/map/assets, for unit tests. */
import { Dictionary, Field, Float32, Int32, List, Table, Utf8, makeTable, vectorFromArray, type Vector } from "apache-arrow";

export function samplePayload(): Table {
  const ids = ["SUB-1", "FDR-1", "SEG-1", "SEG-2", "XF-1", "SW-1", "TIE-1", "POLE-1"];
  const types = ["substation", "feeder", "line_segment", "line_segment", "transformer", "switch", "tie_switch", "pole"];
  let nextDictId = 0;
  const dictType = () => new Dictionary(new Utf8(), new Int32(), nextDictId++);
  const pathType = new List(new Field("item", new Float32(), false));
  const paths: (number[] | null)[] = [null, null, [-95, 29, -95.01, 29.01, -95.02, 29.02], [-95.02, 29.02, -95.03, 29.0], null, null, null, null];
  const cols: Record<string, Vector> = {
    asset_id: vectorFromArray(ids, new Utf8()),
    asset_type: vectorFromArray(types, dictType()),
    lon: vectorFromArray([-95, -95, -95.01, -95.025, -95.02, -95.021, -95.03, -95.005], new Float32()),
    lat: vectorFromArray([29, 29, 29.01, 29.01, 29.02, 29.021, 29.0, 29.005], new Float32()),
    feeder_id: vectorFromArray([null, "FDR-1", "FDR-1", "FDR-1", "FDR-1", "FDR-1", "FDR-1", "FDR-1"], dictType()),
    substation_id: vectorFromArray(["SUB-1", "SUB-1", "SUB-1", "SUB-1", "SUB-1", "SUB-1", "SUB-1", "SUB-1"], dictType()),
    loading_pct: vectorFromArray([50, 70, 85, 120, 40, null, null, null], new Float32()),
    state: vectorFromArray([null, null, null, null, null, "closed", "open", null], new Utf8()),
    normal_state: vectorFromArray([null, null, null, null, null, "closed", "open", null], new Utf8()),
    customers: vectorFromArray([1200, 1200, null, null, 8, null, null, null], new Float32()),
    path: vectorFromArray(paths, pathType),
  };
  return makeTable(cols as never) as unknown as Table;
}
