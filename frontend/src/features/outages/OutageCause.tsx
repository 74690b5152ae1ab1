/** The cause an operator records for an outage (IEEE 1782 categories), open or already restored. */
import { useState } from "react";
import { api, str } from "../../api/endpoints";
import { describeError } from "../../api/useApi";
import { loadOutages } from "../../app/loaders";
import { bumpRevision, liveStore } from "../../state/live";
import { humanLabel } from "../common/labels";
import { useOperatorBlock } from "../common/OpButton";

/** fluxops.ops.models.OUTAGE_CAUSES */
export const OUTAGE_CAUSES = ["equipment", "vegetation", "animal", "lightning", "weather", "public", "utility", "power_supply", "unknown"] as const;

export function OutageCause({ outageId, cause }: { outageId: string; cause: unknown }) {
  const [value, setValue] = useState(str(cause, ""));
  const [error, setError] = useState<string | null>(null);
  const blocked = useOperatorBlock();
  const save = async (next: string) => {
    const before = value;
    setValue(next);
    try {
      await api.setOutageCause(outageId, next);
      setError(null);
      await loadOutages();
      liveStore.update(bumpRevision);
    } catch (e) {
      setValue(before);
      setError(describeError(e).message);
    }
  };
  return (
    <span className="cause" onClick={(e) => e.stopPropagation()}>
      <select data-testid="outage-cause" aria-label="cause" data-operator="1" disabled={blocked !== null} title={blocked ?? "Cause of the outage"} value={value} onChange={(e) => void save(e.target.value)}>
        <option value="" disabled>
          cause not recorded
        </option>
        {OUTAGE_CAUSES.map((c) => (
          <option key={c} value={c}>
            {humanLabel(c)}
          </option>
        ))}
      </select>
      {error && <span className="error-text">{error}</span>}
    </span>
  );
}
