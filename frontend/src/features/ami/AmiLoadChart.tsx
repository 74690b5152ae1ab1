/** Load chart for one asset from AMI: a transformer's own curve, a feeder's, or the asset's feeder's. */
import { api, listOf } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { LineChart } from "../common/LineChart";
import { PanelState } from "../common/Status";
import { curveFrom } from "./amiShapes";

export function AmiLoadChart({ assetId, assetType, feederId }: { assetId: string; assetType: string; feederId: string }) {
  const q = assetType === "transformer" ? { transformer_id: assetId } : { feeder_id: assetType === "feeder" ? assetId : feederId };
  const res = useApi(q.transformer_id || q.feeder_id ? () => api.ami("load-curves", q) : null, [assetId]);
  const curve = curveFrom(listOf(res.data, "points", "curve", "load_curve", "series"));
  return (
    <PanelState loading={res.loading} error={res.error} missing={res.missing} what="AMI load curves">
      {curve.kw.length > 0 ? (
        <LineChart series={[{ label: "kW", values: curve.kw, colour: "#38bdf8" }]} xLabels={curve.labels} unit=" kW" />
      ) : (
        <div className="muted">no AMI readings for this asset</div>
      )}
    </PanelState>
  );
}
