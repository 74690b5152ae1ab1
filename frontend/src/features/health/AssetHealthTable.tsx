/** Transformer loading and thermal ageing (IEEE C57.91 ageing from AMI), sortable; click a row to locate. */
import { useMemo, useState } from "react";
import { api, fmt, listOf, str } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { columnsOf, sortRows, type SortDir } from "./healthTable";

const PREFERRED = ["transformer_id", "feeder_id", "rating_kva", "peak_kw", "peak_loading_pct", "loading_pct", "aging_factor", "faa", "loss_of_life_pct", "hot_spot_c", "peak_hot_spot_c"];

export function AssetHealthTable() {
  const res = useApi(() => api.ami("transformer-aging", { limit: 500 }), []);
  const rows = listOf(res.data, "transformers", "aging");
  const cols = columnsOf(rows, PREFERRED);
  const [key, setKey] = useState<string>("");
  const [dir, setDir] = useState<SortDir>("desc");
  const sortKey = key || cols.find((c) => c.includes("loss_of_life") || c.includes("aging")) || cols[0] || "";
  const sorted = useMemo(() => (sortKey ? sortRows(rows, sortKey, dir) : rows), [rows, sortKey, dir]);
  const locate = (id: string) => {
    const d = mapDataStore.get();
    const r = d.byId.get(id);
    selectionStore.update((s) => (r === undefined || !d.assets ? selectAsset(s, id) : requestFlyTo(selectAsset(s, id), d.assets.lon[r], d.assets.lat[r], 16)));
  };
  return (
    <div data-testid="health-panel">
      <PanelState loading={res.loading} error={res.error} missing={res.missing} what="transformer thermal ageing (/api/ami/transformer-aging)">
        <table className="list sortable">
          <thead>
            <tr>
              {cols.map((c) => (
                <th
                  key={c}
                  onClick={() => {
                    if (c === sortKey) setDir(dir === "asc" ? "desc" : "asc");
                    else setKey(c);
                  }}
                >
                  {c.replace(/_/g, " ")}
                  {c === sortKey ? (dir === "asc" ? " ▲" : " ▼") : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.slice(0, 300).map((r, i) => (
              <tr key={str(r.transformer_id, String(i))} onClick={() => locate(str(r.transformer_id))} data-testid="health-row">
                {cols.map((c) => (
                  <td key={c}>{typeof r[c] === "number" ? fmt(r[c], Number.isInteger(r[c]) ? 0 : 2) : str(r[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </PanelState>
    </div>
  );
}
