/** Transformer loading and thermal ageing (IEEE C57.91 ageing from AMI), sortable; click a row to locate. */
import { useMemo, useState } from "react";
import { api, fmt, listOf, str } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { columnsOf, sortRows, type SortDir } from "./healthTable";
import { humanLabel } from "../common/labels";
import { ExportButton } from "../export/ExportButton";
import { timeText } from "../common/format";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";

// Columns of /api/ami/transformers/thermal (IEEE C57.91 over the period).
const PREFERRED = ["transformer_id", "feeder_id", "max_loading_pct", "max_hot_spot_c", "equivalent_aging_factor", "loss_of_life_pct", "hours_above_110c", "hours"];

export function AssetHealthTable() {
  const res = useApi(() => api.ami("transformers/thermal", { limit: 2000 }), []);
  const tz = useStore(uiStore).timeZone;
  const rows = listOf(res.data, "rows");
  const cols = columnsOf(rows, PREFERRED);
  const [key, setKey] = useState<string>("");
  const [dir, setDir] = useState<SortDir>("desc");
  const sortKey = key || (cols.includes("max_loading_pct") ? "max_loading_pct" : cols[0]) || "";
  const sorted = useMemo(() => (sortKey ? sortRows(rows, sortKey, dir) : rows), [rows, sortKey, dir]);
  const locate = (id: string) => {
    const d = mapDataStore.get();
    const r = d.byId.get(id);
    selectionStore.update((s) => (r === undefined || !d.assets ? selectAsset(s, id) : requestFlyTo(selectAsset(s, id), d.assets.lon[r], d.assets.lat[r], 16)));
  };
  return (
    <div data-testid="health-panel">
      <PanelState loading={res.loading} hasData={res.data !== null} error={res.error} missing={res.missing} what="transformer thermal ageing (/api/ami/transformers/thermal)">
        {rows.length === 0 && <div className="muted">No AMI-derived transformer loading yet (no readings ingested).</div>}
        <ExportButton source={{ path: "/api/ami/transformers/thermal", query: { limit: 2000 } }} geo={false} />
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
                  {humanLabel(c)}
                  {c === sortKey ? (dir === "asc" ? " ▲" : " ▼") : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.slice(0, 300).map((r, i) => (
              <tr key={str(r.transformer_id, String(i))} onClick={() => locate(str(r.transformer_id))} data-testid="health-row">
                {cols.map((c) => (
                  <td key={c}>{typeof r[c] === "number" ? fmt(r[c], Number.isInteger(r[c]) ? 0 : 2) : (timeText(r[c], tz) ?? str(r[c]))}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </PanelState>
    </div>
  );
}
