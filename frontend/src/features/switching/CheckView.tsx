/** A switching check read plainly: the verdict, the failing step's problems, and each step's effect. */
import { readCheck, type SwitchingCheck } from "./switching";
import { loadGridLoading, loadGridState, loadMapAssets } from "../../app/loaders";
import { bumpRevision, liveStore } from "../../state/live";

export function CheckView({ check, testId = "switching-check" }: { check: SwitchingCheck; testId?: string }) {
  const r = readCheck(check);
  return (
    <div className={`notice ${r.ok ? "" : "error"}`} data-testid={testId} data-ok={r.ok ? "true" : "false"}>
      <div>
        <b>{r.headline}</b>
      </div>
      {r.problems.length > 0 && (
        <ul data-testid={`${testId}-problems`}>
          {r.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <details>
        <summary className="small">each step</summary>
        <ul className="small">
          {r.steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ul>
      </details>
    </div>
  );
}

/** After the live configuration changed: the map's device states, colours and flows, and every panel. */
export async function afterSwitching(): Promise<void> {
  liveStore.update(bumpRevision);
  await Promise.all([loadMapAssets(), loadGridState(true), loadGridLoading(true)]);
  liveStore.update(bumpRevision);
}
