/**
 * The inspector's switching section for a device: its live state against its normal state, and for
 * operators Open / Close with a required reason. The step is checked first (`POST /api/switching/check`,
 * changes nothing); a refusal shows the failing step and why, and can be applied anyway only as
 * emergency switching (forced, recorded as such).
 */
import { useState } from "react";
import { describeError, useApi } from "../../api/useApi";
import { ApiError } from "../../api/client";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { uiStore } from "../../state/ui";
import { formatTime } from "../common/format";
import { actionFor, checkFromDetails, stateText, type SwitchingCheck } from "./switching";
import { switchingApi } from "./switchingApi";
import { CheckView, afterSwitching } from "./CheckView";
import { OpButton } from "../common/OpButton";

/** Keyed by device: a check, reason or message never carries over to the next device inspected. */
export function DeviceSwitching({ deviceId }: { deviceId: string }) {
  return <DeviceSwitchingFor key={deviceId} deviceId={deviceId} />;
}

function DeviceSwitchingFor({ deviceId }: { deviceId: string }) {
  const live = useStore(liveStore);
  const tz = useStore(uiStore).timeZone;
  const dev = useApi(() => switchingApi.device(deviceId), [deviceId, live.revision]);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [check, setCheck] = useState<SwitchingCheck | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  if (dev.missing || (dev.error && !dev.data)) return null; // not a switching device here
  const d = dev.data;
  if (!d) return <section><h4>Switching</h4><div className="notice">Loading state…</div></section>;
  const action = actionFor(d.state);
  const label = action === "open" ? "Open" : "Close";

  const operate = async (force: boolean) => {
    if (!reason.trim()) {
      setMessage("A reason is required (it is recorded with the operation).");
      return;
    }
    setBusy(true);
    setMessage(null);
    setDone(null);
    try {
      if (!force) {
        const c = await switchingApi.check([{ device_id: deviceId, action }]);
        setCheck(c);
        if (!c.ok) return; // shown as a refusal; the operator may force it
      }
      const res = await switchingApi.operate(deviceId, action, reason.trim(), force);
      setCheck(res.check);
      setDone(`${deviceId} ${res.operation.to_state}${res.operation.forced ? " (forced: emergency switching)" : ""}`);
      setReason("");
      await afterSwitching();
    } catch (e) {
      const c = e instanceof ApiError ? checkFromDetails(e.details) : null;
      if (c) setCheck(c);
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section data-testid="device-switching">
      <h4>Switching</h4>
      <div className="chips">
        <span className={`chip ${d.off_normal ? "warn" : ""}`} data-testid="device-state" data-state={d.state}>
          {stateText(d.state, d.normal_state)}
        </span>
      </div>
      <div className="field">
        <label htmlFor="switch-reason">Reason (required)</label>
        <input
          id="switch-reason"
          data-testid="switch-reason"
          value={reason}
          maxLength={500}
          placeholder="why, e.g. transfer lateral for crew work"
          onChange={(e) => setReason(e.target.value)}
        />
        <div className="row">
          <OpButton data-testid={`switch-${action}`} disabled={busy || !reason.trim()} onClick={() => void operate(false)}>
            {busy ? "checking…" : `${label} ${deviceId}`}
          </OpButton>
          {check && !check.ok && (
            <OpButton
              data-testid="switch-force"
              className="danger"
              disabled={busy || !reason.trim()}
              onClick={() => {
                if (window.confirm(`${label} ${deviceId} although the check refuses it? It is recorded as emergency switching.`)) void operate(true);
              }}
            >
              {label} anyway (emergency)
            </OpButton>
          )}
        </div>
      </div>
      {check && <CheckView check={check} />}
      {done && <div className="notice" data-testid="switch-done">Done: {done}</div>}
      {message && <div className="notice error" data-testid="switch-error">{message}</div>}
      {d.operations.length > 0 && (
        <details>
          <summary className="small">last operations ({d.operations.length})</summary>
          <ul className="small">
            {d.operations.map((o) => (
              <li key={o.op_id}>
                {formatTime(o.at_utc, tz)} · {o.from_state} → {o.to_state} by {o.changed_by}
                {o.forced ? " (forced)" : ""} · {o.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
