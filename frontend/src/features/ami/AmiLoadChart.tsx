/** Load chart for one asset from AMI: a transformer's own hourly curve, else its feeder's. */
import { api, listOf } from "../../api/endpoints";
import { useApi } from "../../api/useApi";
import { LineChart } from "../common/LineChart";
import { PanelState } from "../common/Status";
import { curveFrom, rowsOf } from "./amiShapes";
import { WeatherStrip } from "./WeatherStrip";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import { zoneAbbreviation } from "../common/format";

/** Hourly rows for one day across all feeders stay well under this (demo: ~300 feeders × 24 h). */
const FEEDER_ROWS = 50_000;

export function AmiLoadChart({ assetId, assetType, feederId }: { assetId: string; assetType: string; feederId: string }) {
  const isXfmr = assetType === "transformer";
  const feeder = assetType === "feeder" ? assetId : feederId;
  const res = useApi(
    isXfmr ? () => api.ami("transformers/load", { transformer_id: assetId, limit: 200 }) : feeder ? () => api.ami("feeders/load", { limit: FEEDER_ROWS }) : null,
    [assetId],
  );
  const rows = listOf(res.data, "rows");
  const points = isXfmr ? rows : rowsOf(rows, "feeder_id", feeder);
  const tz = useStore(uiStore).timeZone;
  const curve = curveFrom(points, tz);
  return (
    <PanelState loading={res.loading} hasData={res.data !== null} error={res.error} missing={res.missing} what="AMI load curves">
      {curve.kw.length > 0 ? (
        <>
          <div className="muted small">{isXfmr ? "transformer average kW per hour" : `feeder ${feeder}: kW per hour`}, hours in {tz} ({zoneAbbreviation(tz)})</div>
          <LineChart series={[{ label: "kW", values: curve.kw, colour: "#38bdf8" }]} xLabels={curve.labels} unit=" kW" />
          <WeatherStrip points={points} labels={curve.labels} />
        </>
      ) : (
        <div className="muted">no AMI readings for {isXfmr ? "this transformer" : `feeder ${feeder}`} today</div>
      )}
    </PanelState>
  );
}
