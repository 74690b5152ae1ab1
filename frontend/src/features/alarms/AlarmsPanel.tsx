/** Alarms: last-gasps, restores, voltage excursions (ANSI C84.1 Range B) and thermal alarms, newest first,
 * each with severity, time in the utility's zone and an acknowledge button (operator). */
import { useEffect, useState } from "react";
import { describeError, useApi } from "../../api/useApi";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { uiStore } from "../../state/ui";
import { PanelState } from "../common/Status";
import { formatTime, zoneAbbreviation } from "../common/format";
import "./alarms.css";
import { ackAlarm, fetchAlarms, KIND_LABELS, markAcknowledged, parseAlarms, type Alarm } from "./alarms";
import { OpButton } from "../common/OpButton";

const POLL_MS = 30_000;

export function AlarmsPanel() {
  const live = useStore(liveStore);
  const ui = useStore(uiStore);
  const [severity, setSeverity] = useState("");
  const [onlyOpen, setOnlyOpen] = useState(false);
  const [acked, setAcked] = useState<Record<string, { by: string; at: string }>>({});
  const [message, setMessage] = useState<string | null>(null);
  const list = useApi(
    () => fetchAlarms({ severity: severity || undefined, acknowledged: onlyOpen ? false : undefined }),
    [live.revision, severity, onlyOpen],
  );
  // new alarms arrive with AMI events; look again every 30 s while the panel is open
  useEffect(() => {
    const t = setInterval(list.reload, POLL_MS);
    return () => clearInterval(t);
  }, [list.reload]);
  let rows: Alarm[] = parseAlarms(list.data);
  for (const [id, a] of Object.entries(acked)) rows = markAcknowledged(rows, id, a.by, a.at);
  if (onlyOpen) rows = rows.filter((a) => !a.acknowledged);

  const ack = async (a: Alarm) => {
    try {
      const r = await ackAlarm(a.alarm_id);
      setAcked((s) => ({ ...s, [a.alarm_id]: { by: String(r.acknowledged_by ?? ""), at: String(r.acknowledged_utc ?? new Date().toISOString()) } }));
      setMessage(null);
    } catch (e) {
      setMessage(describeError(e).message);
    }
  };

  return (
    <div data-testid="alarms-panel">
      <div className="filters">
        <select aria-label="severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
          <option value="">all severities</option>
          <option value="critical">critical</option>
          <option value="warning">warning</option>
          <option value="info">info</option>
        </select>
        <label>
          <input type="checkbox" checked={onlyOpen} onChange={(e) => setOnlyOpen(e.target.checked)} /> unacknowledged only
        </label>
        <button onClick={() => list.reload()}>Refresh</button>
      </div>
      <div className="muted small">
        Last 24 h, newest first; times in {ui.timeZone} ({zoneAbbreviation(ui.timeZone)}). Voltage: outside ANSI C84.1 Range B (106–127 V) critical, outside Range A
        (114–126 V) warning; thermal: hot spot ≥ 110 °C warning, ≥ 140 °C critical.
      </div>
      {message && <div className="notice error">{message}</div>}
      <PanelState loading={list.loading} hasData={list.data !== null} error={list.error} missing={list.missing} what="alarms (/api/alarms)">
        {rows.length === 0 ? (
          <div className="notice">No alarms.</div>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th>Time ({zoneAbbreviation(ui.timeZone)})</th>
                <th>Severity</th>
                <th>Kind</th>
                <th>Source</th>
                <th>What</th>
                <th>Ack</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.alarm_id} data-testid="alarm-row" data-alarm-id={a.alarm_id} className={`sev-${a.severity}`}>
                  <td>{formatTime(a.time_utc, ui.timeZone)}</td>
                  <td>
                    <span className={`badge sev-${a.severity}`}>{a.severity}</span>
                  </td>
                  <td>{KIND_LABELS[a.kind] ?? a.kind}</td>
                  <td>{a.source_id}</td>
                  <td>{a.message}</td>
                  <td>
                    {a.acknowledged ? (
                      <span className="muted small" data-testid="alarm-acked" title={a.acknowledged_utc ? formatTime(a.acknowledged_utc, ui.timeZone) : ""}>
                        ✓ {a.acknowledged_by ?? ""}
                      </span>
                    ) : (
                      <OpButton data-testid="alarm-ack" onClick={() => void ack(a)}>
                        Acknowledge
                      </OpButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PanelState>
    </div>
  );
}
