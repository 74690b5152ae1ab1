/** The assets a lasso or radius selected: totals (count by type, customers, kVA), the list, export. */
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { ExportButton } from "../export/ExportButton";
import { humanLabel } from "../common/labels";
import { selectionSource } from "./layersApi";
import type { SelectionState } from "./layersState";
import { selectionTotals } from "./selectionTotals";

const SHOWN = 200;

export function SelectionTable({ sel }: { sel: SelectionState }) {
  const data = useStore(mapDataStore);
  if (sel.loading) return <div className="muted">selecting…</div>;
  if (sel.error) return <div className="notice error">Selection refused: {sel.error}</div>;
  if (!sel.answer || !sel.shape) return null;
  const a = data.assets;
  const t = selectionTotals(sel.answer, (id) => {
    const r = data.byId.get(id);
    return r === undefined || !a ? undefined : a.ratingKva[r];
  });
  const src = selectionSource(sel.shape);
  const fly = (id: string, lon: number, lat: number) => selectionStore.update((s) => requestFlyTo(selectAsset(s, id), lon, lat, 16));
  return (
    <div data-testid="selection">
      <div className="chips" data-testid="selection-totals">
        <span className="chip">
          {t.count.toLocaleString("en-US")} {t.count === 1 ? "asset" : "assets"}
        </span>
        <span className="chip">{t.customers.toLocaleString("en-US")} customers (meters)</span>
        <span className="chip">
          {t.kva.toLocaleString("en-US", { maximumFractionDigits: 0 })} kVA transformers{t.partial ? " (listed rows only)" : ""}
          {t.kvaUnknown ? `, ${t.kvaUnknown} unrated` : ""}
        </span>
        <ExportButton source={{ path: src.path, method: src.method, query: src.query, body: src.body }} />
      </div>
      <div className="chips small">
        {t.byType.map(([type, n]) => (
          <span key={type} className="chip" data-testid={`selection-type-${type}`}>
            {humanLabel(type)}: {n.toLocaleString("en-US")}
          </span>
        ))}
      </div>
      <table className="table small" data-testid="selection-table">
        <thead>
          <tr>
            <th>Asset</th>
            <th>Type</th>
            <th>Feeder</th>
            <th>Distance</th>
          </tr>
        </thead>
        <tbody>
          {sel.answer.items.slice(0, SHOWN).map((i) => (
            <tr key={i.asset_id} onClick={() => fly(i.asset_id, i.lon, i.lat)} className="clickable">
              <td>{i.asset_id}</td>
              <td>{humanLabel(i.asset_type)}</td>
              <td>{i.feeder_id ?? "—"}</td>
              <td>{i.distance_m === null ? "—" : `${Math.round(i.distance_m).toLocaleString("en-US")} m`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {sel.answer.items.length > SHOWN && (
        <div className="muted small">
          first {SHOWN} of {sel.answer.items.length.toLocaleString("en-US")} listed; the export has every listed row
        </div>
      )}
      {sel.answer.truncated && <div className="muted small">the server listed {sel.answer.items.length.toLocaleString("en-US")} of {t.count.toLocaleString("en-US")} matches (counts cover all)</div>}
    </div>
  );
}
