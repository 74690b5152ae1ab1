/** Work orders: list with state and crew; create one for the selected asset; advance its state. */
import { useState } from "react";
import { api, listOf, str, type Json } from "../../api/endpoints";
import { useApi, describeError } from "../../api/useApi";
import { PanelState } from "../common/Status";
import { useStore } from "../../state/store";
import { bumpRevision, liveStore } from "../../state/live";
import { selectionStore } from "../../state/selection";
import { ACTION_TO, nextStatus, WORK_ORDER_PRIORITIES, WORK_ORDER_TYPES } from "./workOrders";
import { CrewPicker } from "./CrewPicker";
import { ExportButton } from "../export/ExportButton";
import { loadOutages } from "../../app/loaders";
import { OpButton } from "../common/OpButton";

export function WorkOrdersPanel() {
  const live = useStore(liveStore);
  const sel = useStore(selectionStore);
  const list = useApi(() => api.workOrders(), [live.revision]);
  const [workType, setWorkType] = useState<string>(WORK_ORDER_TYPES[1]);
  const [priority, setPriority] = useState<string>("medium");
  const [description, setDescription] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const crews = live.crews ?? [];

  const create = async () => {
    try {
      const body: Json = { work_type: workType, priority, description: description || `${workType} of ${sel.selectedId ?? "asset"}` };
      if (sel.selectedId) body.asset_id = sel.selectedId;
      const wo = await api.createWorkOrder(body);
      setMessage(`created ${str(wo.work_order_id)}`);
      setDescription("");
      liveStore.update(bumpRevision); // the list here and the asset's inspector both refetch
    } catch (e) {
      setMessage(describeError(e).message);
    }
  };

  const advance = async (w: Json) => {
    const to = nextStatus(str(w.status));
    if (!to) return;
    try {
      let body: Json | undefined;
      if (to === "assigned") {
        const crew = crews.find((c) => c.status === "available");
        if (!crew) {
          setMessage("no available crew to assign");
          return;
        }
        body = { crew_id: crew.crew_id };
      }
      await api.workOrderAction(str(w.work_order_id), ACTION_TO[to], body);
      setMessage(
        to === "completed" ? `${str(w.work_order_id)} → completed; an open outage it repairs now reads "repair complete — confirm restore"` : `${str(w.work_order_id)} → ${to}`,
      );
      list.reload();
      if (to === "completed") void loadOutages(); // a finished repair proposes its outage's restore
    } catch (e) {
      setMessage(describeError(e).message);
    }
  };

  return (
    <div data-testid="workorders-panel">
      <PanelState loading={list.loading} hasData={list.data !== null} error={list.error} missing={list.missing} what="work orders (/api/work-orders)">
        <form
          className="wo-form"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <div className="muted">for {sel.selectedId ?? "no asset selected (click one on the map)"}</div>
          <select value={workType} onChange={(e) => setWorkType(e.target.value)}>
            {WORK_ORDER_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <select value={priority} onChange={(e) => setPriority(e.target.value)}>
            {WORK_ORDER_PRIORITIES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <input placeholder="description" value={description} onChange={(e) => setDescription(e.target.value)} />
          <OpButton type="submit" data-testid="workorder-create">Create</OpButton>
        </form>
        {message && <div className="notice">{message}</div>}
        <ExportButton source={{ path: "/api/work-orders" }} />
        <table className="list">
          <thead>
            <tr>
              <th>order</th>
              <th>type</th>
              <th>priority</th>
              <th>asset</th>
              <th>crew</th>
              <th>state</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {listOf(list.data, "items", "work_orders").map((w) => {
              const to = nextStatus(str(w.status));
              return (
                <tr key={str(w.work_order_id)} data-testid="workorder-row">
                  <td>{str(w.work_order_id)}</td>
                  <td>{str(w.work_type)}</td>
                  <td>{str(w.priority)}</td>
                  <td>{str(w.asset_id)}</td>
                  <td>{str(w.crew_id)}</td>
                  <td>{str(w.status)}</td>
                  <td>
                    {to === "assigned" ? (
                      <CrewPicker
                        workOrderId={str(w.work_order_id)}
                        onAssigned={(crew) => {
                          setMessage(`${str(w.work_order_id)} → assigned to ${crew}`);
                          liveStore.update(bumpRevision);
                        }}
                        onError={setMessage}
                      />
                    ) : (
                      to && <OpButton onClick={() => void advance(w)}>→ {to}</OpButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </PanelState>
    </div>
  );
}
