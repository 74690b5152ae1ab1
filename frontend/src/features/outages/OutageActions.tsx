/** Acknowledge / confirm / restore buttons for one outage; the lists refresh after each action. */
import { useState } from "react";
import { api, type Json } from "../../api/endpoints";
import { describeError } from "../../api/useApi";
import { loadOutages } from "../../app/loaders";
import { bumpRevision, liveStore } from "../../state/live";
import { actionLabel, allowedActions, type LifecycleFields } from "./outageLifecycle";
import { OpButton } from "../common/OpButton";

export function OutageActions({ outage }: { outage: LifecycleFields & { outage_id: string } & Json }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const actions = allowedActions(outage);
  if (actions.length === 0) return null;
  const act = async (action: (typeof actions)[number]) => {
    if (action === "restore" && !window.confirm(`Restore ${outage.outage_id}? Every customer it holds is marked as back on supply.`)) return;
    if (action === "cancel" && !window.confirm(`Cancel ${outage.outage_id}? Use this only when there was no outage (false last-gasps); it will not count in reliability.`)) return;
    setBusy(true);
    try {
      await api.outageAction(outage.outage_id, action);
      setMessage(null);
      await loadOutages();
      liveStore.update(bumpRevision);
    } catch (e) {
      setMessage(describeError(e).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="actions" onClick={(e) => e.stopPropagation()}>
      {actions.map((a) => (
        <OpButton key={a} data-testid={`outage-${a}`} disabled={busy} onClick={() => void act(a)}>
          {actionLabel(outage, a)}
        </OpButton>
      ))}
      {message && <span className="error-text">{message}</span>}
    </span>
  );
}
