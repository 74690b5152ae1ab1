/**
 * The Switching side panel: devices away from their normal state (live configuration), the switching
 * log, switching orders (draft from typed steps, re-check, approve, execute, cancel) and the Compare
 * view (two cascades or configurations side by side).
 */
import { useState } from "react";
import { describeError, useApi } from "../../api/useApi";
import { ApiError } from "../../api/client";
import { PanelState } from "../common/Status";
import { humanLabel } from "../common/labels";
import { formatTime } from "../common/format";
import { useStore } from "../../state/store";
import { liveStore } from "../../state/live";
import { uiStore } from "../../state/ui";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { mapDataStore } from "../../state/mapData";
import {
  checkFromDetails,
  ORDER_ACTION_LABELS,
  ORDER_STATUS_LABELS,
  orderActions,
  parseSteps,
  type OrderAction,
  type SwitchingCheck,
  type SwitchingOrder,
} from "./switching";
import { switchingApi } from "./switchingApi";
import { CheckView, afterSwitching } from "./CheckView";
import { ComparePanel } from "./ComparePanel";
import { OpButton } from "../common/OpButton";

type Sub = "devices" | "orders" | "compare";
const SUBS: [Sub, string][] = [
  ["devices", "Off normal & log"],
  ["orders", "Orders"],
  ["compare", "Compare"],
];

/** Select a device and fly to it (the inspector opens with its Open / Close). */
export function locateDevice(id: string): void {
  const d = mapDataStore.get();
  const r = d.byId.get(id);
  selectionStore.update((s) => {
    const next = selectAsset(s, id);
    return r === undefined || !d.assets ? next : requestFlyTo(next, d.assets.lon[r], d.assets.lat[r], 15.5);
  });
}

function OffNormalAndLog() {
  const live = useStore(liveStore);
  const tz = useStore(uiStore).timeZone;
  const states = useApi(() => switchingApi.states(), [live.revision]);
  const log = useApi(() => switchingApi.log(50), [live.revision]);
  const off = states.data?.off_normal ?? [];
  return (
    <>
      <h4>Devices off normal ({off.length})</h4>
      <PanelState loading={states.loading} hasData={states.data !== null} error={states.error} missing={states.missing} what="the switching states">
        {off.length === 0 ? (
          <div className="muted" data-testid="off-normal-empty">Every device is in its normal state.</div>
        ) : (
          <table className="list" data-testid="off-normal">
            <thead>
              <tr>
                <th>Device</th>
                <th>Type</th>
                <th>Now</th>
                <th>Normally</th>
              </tr>
            </thead>
            <tbody>
              {off.map((o) => (
                <tr key={o.device_id} onClick={() => locateDevice(o.device_id)} data-testid="off-normal-row">
                  <td>{o.device_id}</td>
                  <td>{humanLabel(o.device_type)}</td>
                  <td className="warn">{o.state}</td>
                  <td>{o.normal_state}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PanelState>
      <h4>Switching log</h4>
      <PanelState loading={log.loading} hasData={log.data !== null} error={log.error} missing={log.missing} what="the switching log">
        {(log.data?.operations.length ?? 0) === 0 ? (
          <div className="muted">No operations yet on this grid.</div>
        ) : (
          <table className="list" data-testid="switching-log">
            <thead>
              <tr>
                <th>When</th>
                <th>Device</th>
                <th>Change</th>
                <th>By</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {log.data?.operations.map((o) => (
                <tr key={o.op_id} onClick={() => locateDevice(o.device_id)} data-testid="switching-log-row">
                  <td>{formatTime(o.at_utc, tz)}</td>
                  <td>{o.device_id}</td>
                  <td>
                    {o.from_state} → {o.to_state}
                    {o.forced ? <span className="warn"> (forced)</span> : null}
                    {o.order_id && !o.reason.includes(o.order_id) ? <span className="muted"> · {o.order_id}</span> : null}
                  </td>
                  <td>{o.changed_by}</td>
                  <td>{o.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PanelState>
    </>
  );
}

function NewOrder({ onCreated }: { onCreated: () => void }) {
  const [title, setTitle] = useState("");
  const [reason, setReason] = useState("");
  const [stepsText, setStepsText] = useState("");
  const [busy, setBusy] = useState(false);
  const [check, setCheck] = useState<SwitchingCheck | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const parsed = parseSteps(stepsText);
  const ready = title.trim() && reason.trim() && parsed.items.length > 0 && parsed.errors.length === 0;

  const run = async (create: boolean) => {
    setBusy(true);
    setMessage(null);
    try {
      // Checked first (changes nothing), so a refused draft shows its step without a failed request.
      const c = await switchingApi.check(parsed.items);
      setCheck(c);
      if (create && c.ok) {
        const order = await switchingApi.createOrder(title.trim(), reason.trim(), parsed.items);
        setCheck(order.validation.steps ? (order.validation as SwitchingCheck) : null);
        setTitle("");
        setReason("");
        setStepsText("");
        onCreated();
      }
    } catch (e) {
      const c = e instanceof ApiError ? checkFromDetails(e.details) : null;
      setCheck(c);
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details open className="new-order">
      <summary>New switching order</summary>
      <div className="field">
        <label htmlFor="order-title">Title</label>
        <input id="order-title" data-testid="order-title" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
        <label htmlFor="order-reason">Reason (required)</label>
        <input id="order-reason" data-testid="order-reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        <label htmlFor="order-steps">Steps, in order, one a line</label>
        <textarea
          id="order-steps"
          data-testid="order-steps"
          rows={3}
          value={stepsText}
          placeholder={"open FUS-0001-02-00011\nclose TIE-00002"}
          onChange={(e) => setStepsText(e.target.value)}
        />
        {parsed.errors.map((e) => (
          <div key={e} className="error-text small">
            {e}
          </div>
        ))}
        <div className="row">
          <OpButton data-testid="order-check" disabled={busy || parsed.items.length === 0 || parsed.errors.length > 0} onClick={() => void run(false)}>
            Check steps
          </OpButton>
          <OpButton data-testid="order-create" disabled={busy || !ready} onClick={() => void run(true)}>
            {busy ? "checking…" : "Create draft"}
          </OpButton>
        </div>
      </div>
      {check && <CheckView check={check} testId="order-check-result" />}
      {message && <div className="notice error" data-testid="order-error">{message}</div>}
    </details>
  );
}

function OrderRow({ order, onChanged }: { order: SwitchingOrder; onChanged: () => void }) {
  const tz = useStore(uiStore).timeZone;
  const [busy, setBusy] = useState(false);
  const [check, setCheck] = useState<SwitchingCheck | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const act = async (a: OrderAction) => {
    if (a === "execute" && !window.confirm(`Execute ${order.order_id}: ${order.steps.length} step(s) on the live grid now?`)) return;
    if (a === "cancel" && !window.confirm(`Cancel ${order.order_id}?`)) return;
    setBusy(true);
    setMessage(null);
    try {
      if (a === "validate") setCheck(await switchingApi.validateOrder(order.order_id));
      else {
        const o = await switchingApi.orderAction(order.order_id, a);
        setCheck(null);
        if (a === "execute") await afterSwitching();
        else onChanged();
        if (o.status === "executed") setMessage(null);
      }
    } catch (e) {
      const c = e instanceof ApiError ? checkFromDetails(e.details) : null;
      setCheck(c);
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };
  const who =
    order.status === "executed"
      ? `executed by ${order.executed_by ?? "—"} ${formatTime(order.executed_utc, tz)}`
      : order.status === "approved"
        ? `approved by ${order.approved_by ?? "—"} ${formatTime(order.approved_utc, tz)}`
        : order.status === "cancelled"
          ? `cancelled by ${order.cancelled_by ?? "—"} ${formatTime(order.cancelled_utc, tz)}`
          : `drafted by ${order.created_by} ${formatTime(order.created_utc, tz)}`;
  return (
    <li className="order" data-testid="order-row" data-order-id={order.order_id} data-status={order.status}>
      <div>
        <span className={`badge order-${order.status}`} data-testid="order-status">
          {ORDER_STATUS_LABELS[order.status] ?? order.status}
        </span>{" "}
        <b>{order.title}</b> <span className="muted small">{order.order_id}</span>
      </div>
      <div className="muted small">
        {order.reason} · {who} · checked at {order.load_multiplier} × design peak
      </div>
      <ol className="small">
        {order.steps.map((s, i) => (
          <li key={`${i}-${s.device_id}`}>
            {s.action} <a onClick={() => locateDevice(s.device_id)}>{s.device_id}</a>
          </li>
        ))}
      </ol>
      <div className="row">
        {orderActions(order.status).map((a) => (
          <OpButton key={a} data-testid={`order-${a}`} disabled={busy} onClick={() => void act(a)}>
            {ORDER_ACTION_LABELS[a]}
          </OpButton>
        ))}
      </div>
      {check && <CheckView check={check} testId="order-row-check" />}
      {message && <div className="notice error">{message}</div>}
    </li>
  );
}

function Orders() {
  const live = useStore(liveStore);
  const [tick, setTick] = useState(0);
  const orders = useApi(() => switchingApi.orders(), [live.revision, tick]);
  const reload = () => setTick((t) => t + 1);
  const list = orders.data?.orders ?? [];
  return (
    <>
      <NewOrder onCreated={reload} />
      <h4>Orders ({list.length})</h4>
      <PanelState loading={orders.loading} hasData={orders.data !== null} error={orders.error} missing={orders.missing} what="switching orders">
        {list.length === 0 ? (
          <div className="muted">No switching orders yet.</div>
        ) : (
          <ul className="orders" data-testid="orders">
            {list.map((o) => (
              <OrderRow key={`${o.order_id}-${o.status}`} order={o} onChanged={reload} />
            ))}
          </ul>
        )}
      </PanelState>
    </>
  );
}

export function SwitchingPanel() {
  const [sub, setSub] = useState<Sub>("devices");
  return (
    <div className="switching" data-testid="switching-panel">
      <div className="tab-bar">
        {SUBS.map(([s, label]) => (
          <button key={s} data-testid={`switching-sub-${s}`} className={s === sub ? "active" : ""} onClick={() => setSub(s)}>
            {label}
          </button>
        ))}
      </div>
      {sub === "devices" && <OffNormalAndLog />}
      {sub === "orders" && <Orders />}
      {sub === "compare" && <ComparePanel />}
    </div>
  );
}
