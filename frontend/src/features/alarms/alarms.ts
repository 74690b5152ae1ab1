/** Alarm list helpers (pure): parsing `GET /api/alarms`, ordering, labels and the ack call. */
import { getJson, sendJson } from "../../api/client";

export type Severity = "critical" | "warning" | "info";

export interface Alarm {
  alarm_id: string;
  kind: string;
  severity: Severity;
  time_utc: string;
  source_id: string;
  message: string;
  value: number | null;
  unit: string | null;
  acknowledged: boolean;
  acknowledged_by: string | null;
  acknowledged_utc: string | null;
}

export const KIND_LABELS: Record<string, string> = {
  last_gasp: "Last gasp",
  power_restore: "Restore",
  voltage_excursion: "Voltage excursion",
  thermal: "Thermal",
};

const SEVERITIES: Severity[] = ["critical", "warning", "info"];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** Keeps rows with the fields the panel needs; drops anything malformed rather than guessing. */
export function parseAlarms(body: unknown): Alarm[] {
  const items = isObj(body) && Array.isArray(body.items) ? body.items : [];
  const out: Alarm[] = [];
  for (const r of items) {
    if (!isObj(r) || typeof r.alarm_id !== "string" || typeof r.time_utc !== "string") continue;
    const sev = SEVERITIES.includes(r.severity as Severity) ? (r.severity as Severity) : "info";
    out.push({
      alarm_id: r.alarm_id,
      kind: typeof r.kind === "string" ? r.kind : "unknown",
      severity: sev,
      time_utc: r.time_utc,
      source_id: typeof r.source_id === "string" ? r.source_id : "",
      message: typeof r.message === "string" ? r.message : "",
      value: typeof r.value === "number" ? r.value : null,
      unit: typeof r.unit === "string" ? r.unit : null,
      acknowledged: r.acknowledged === true,
      acknowledged_by: typeof r.acknowledged_by === "string" ? r.acknowledged_by : null,
      acknowledged_utc: typeof r.acknowledged_utc === "string" ? r.acknowledged_utc : null,
    });
  }
  return sortAlarms(out);
}

/** Newest first; at the same time the more severe first. */
export function sortAlarms(rows: Alarm[]): Alarm[] {
  return [...rows].sort(
    (a, b) => Date.parse(b.time_utc) - Date.parse(a.time_utc) || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.alarm_id.localeCompare(b.alarm_id),
  );
}

/** Marks one alarm acknowledged in a list (after the server said so), leaving the others as they are. */
export function markAcknowledged(rows: Alarm[], id: string, by: string, atUtc: string): Alarm[] {
  return rows.map((a) => (a.alarm_id === id && !a.acknowledged ? { ...a, acknowledged: true, acknowledged_by: by, acknowledged_utc: atUtc } : a));
}

export const fetchAlarms = (q: { severity?: string; acknowledged?: boolean }) => getJson<unknown>("/api/alarms", q);
export const ackAlarm = (id: string) => sendJson<Record<string, unknown>>("POST", `/api/alarms/${encodeURIComponent(id)}/ack`);
