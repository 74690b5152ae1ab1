/**
 * Assign a crew to a work order from the server's proposals (`/api/work-orders/{id}/crew-proposals`):
 * available and qualified for the asset first, nearest first; the best one is preselected.
 */
import { useState } from "react";
import { api, num, str, type Json } from "../../api/endpoints";
import { describeError } from "../../api/useApi";
import { formatFigure } from "../common/format";
import { humanLabel } from "../common/labels";
import { OpButton } from "../common/OpButton";

export function proposalLabel(p: Json): string {
  const dist = num(p.distance_km);
  const fit = p.qualified === true ? "qualified" : p.qualified === false ? "lacks the skill" : "skills not recorded";
  return `${str(p.crew_id)} · ${dist === null ? "distance unknown" : formatFigure(dist, "km")} · ${fit}${p.status === "available" ? "" : ` · ${humanLabel(str(p.status))}`}`;
}

export function CrewPicker({ workOrderId, onAssigned, onError }: { workOrderId: string; onAssigned: (crewId: string) => void; onError: (m: string) => void }) {
  const [proposals, setProposals] = useState<Json[] | null>(null);
  const [skill, setSkill] = useState<string | null>(null);
  const [crewId, setCrewId] = useState("");
  const load = async () => {
    try {
      const body = (await api.crewProposals(workOrderId)) as Json;
      const list = Array.isArray(body.proposals) ? (body.proposals as Json[]) : [];
      setProposals(list);
      setSkill(typeof body.required_skill === "string" ? body.required_skill : null);
      setCrewId(str(list.find((p) => p.status === "available")?.crew_id, ""));
    } catch (e) {
      onError(describeError(e).message);
    }
  };
  const assign = async () => {
    try {
      await api.workOrderAction(workOrderId, "assign", { crew_id: crewId });
      onAssigned(crewId);
    } catch (e) {
      onError(describeError(e).message);
    }
  };
  if (!proposals)
    return (
      <OpButton data-testid="propose-crew" onClick={() => void load()}>
        → assign…
      </OpButton>
    );
  if (proposals.length === 0) return <span className="muted">no crews on the roster</span>;
  return (
    <span className="crew-picker" title={skill ? `needs: ${humanLabel(skill)}` : "any crew"}>
      <select data-testid="crew-choice" value={crewId} onChange={(e) => setCrewId(e.target.value)}>
        {proposals.map((p) => (
          <option key={str(p.crew_id)} value={str(p.crew_id)} disabled={p.status !== "available"}>
            {proposalLabel(p)}
          </option>
        ))}
      </select>
      <OpButton data-testid="assign-crew" disabled={!crewId} onClick={() => void assign()}>
        Assign
      </OpButton>
    </span>
  );
}
