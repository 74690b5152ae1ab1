/**
 * The asset inspector: attributes, path to the substation (each step clickable), downstream customers
 * and critical facilities, the AMI load chart, and related outages and work orders.
 */
import { useEffect } from "react";
import { api, fmt, str, type Json } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { humanLabel } from "../common/labels";
import { uiStore } from "../../state/ui";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { inspectorPainted, requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { mapDataStore } from "../../state/mapData";
import { AmiLoadChart } from "../ami/AmiLoadChart";
import { RelatedRecords } from "./RelatedRecords";
import { attrText } from "./attrText";
import { RiskSection } from "../risk/RiskSection";
import { DeviceSwitching } from "../switching/DeviceSwitching";
import { isSwitchingDevice } from "../switching/switching";

function locate(id: string) {
  const d = mapDataStore.get();
  const r = d.byId.get(id);
  selectionStore.update((s) => {
    const next = selectAsset(s, id);
    return r === undefined || !d.assets ? next : requestFlyTo(next, d.assets.lon[r], d.assets.lat[r], Math.max(13, d.assets.typeNames[d.assets.typeCode[r]] === "substation" ? 13 : 15.5));
  });
}

function Attributes({ attrs }: { attrs: Json }) {
  const tz = useStore(uiStore).timeZone;
  const entries = Object.entries(attrs).filter(([k]) => k !== "geometry_wkb");
  return (
    <table className="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th>{humanLabel(k)}</th>
            <td>{attrText(k, v, tz)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Once this asset's details (or its error) are on screen, say so after the browser painted them: a
 * camera move waiting for the inspector (state/selection.ts) starts then, not before.
 */
function usePaintedSignal(id: string | null, shown: boolean): void {
  useEffect(() => {
    if (!id || !shown) return;
    let timer = 0;
    // rAF runs just before the next paint; a task queued from it runs after that paint
    const raf = requestAnimationFrame(() => {
      timer = window.setTimeout(() => selectionStore.update((s) => inspectorPainted(s, id)), 0);
    });
    return () => {
      cancelAnimationFrame(raf);
      clearTimeout(timer);
    };
  }, [id, shown]);
}

export function AssetInspector() {
  const sel = useStore(selectionStore);
  const id = sel.selectedId;
  const detail = useApi(id ? () => api.asset(id) : null, [id]);
  const d = id !== null && detail.data && detail.data.asset_id === id ? detail.data : null; // never the previous asset's
  usePaintedSignal(id, d !== null || (!detail.loading && detail.error !== null));
  if (!id) return null;
  const downstream = d?.downstream ?? {};
  const path = d?.path_to_substation ?? [];
  // segments, devices and meters carry `phases`, transformers `phase` (also the detail's `phases`)
  const phases = str(d?.attributes?.phases ?? d?.attributes?.phase, "");
  return (
    <aside className="inspector" data-testid="inspector">
      <header>
        <div>
          <div className="muted">{humanLabel(str(d?.asset_type, "asset"))}</div>
          <h3 data-testid="inspector-id">{id}</h3>
          {d?.name ? <div>{str(d.name)}</div> : null}
          {phases ? (
            <div className="muted" data-testid="inspector-phases" title="Phases the element is connected to">
              phases {phases}
            </div>
          ) : null}
        </div>
        <button aria-label="close" onClick={() => selectionStore.update((s) => selectAsset(s, null))}>
          ×
        </button>
      </header>
      <PanelState loading={detail.loading} hasData={detail.data !== null && detail.data.asset_id === id} error={detail.error} missing={detail.missing} what="asset details">
        {d && (
          <>
            {isSwitchingDevice(str(d.asset_type, "")) && <DeviceSwitching deviceId={id} />}
            <section>
              <h4>Downstream</h4>
              <div className="chips" data-testid="downstream">
                {Object.entries(downstream).map(([k, v]) => (
                  <span key={k} className={`chip ${k.includes("critical") && Number(v) > 0 ? "warn" : ""}`}>
                    {humanLabel(k)}: {fmt(v, Number.isInteger(v) ? 0 : 1)}
                  </span>
                ))}
              </div>
            </section>
            <section>
              <h4>Path to substation</h4>
              <ol className="path">
                {path.map((p) => (
                  <li key={p}>
                    <a onClick={() => locate(p)}>{p}</a>
                  </li>
                ))}
              </ol>
            </section>
            <section>
              <h4>Load (AMI)</h4>
              <AmiLoadChart assetId={id} assetType={str(d.asset_type, "")} feederId={str(d.feeder_id, "")} />
            </section>
            <RelatedRecords assetId={id} />
            <RiskSection assetId={id} />
            <section>
              <h4>Attributes</h4>
              <Attributes attrs={d.attributes} />
              {d.customer ? <Attributes attrs={d.customer} /> : null}
            </section>
          </>
        )}
      </PanelState>
    </aside>
  );
}
