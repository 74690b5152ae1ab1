/**
 * The live stream (`/api/stream`, server-sent events). Each event names what changed; the UI
 * refetches that resource rather than trusting partial payloads, so the stream and the REST views
 * can never disagree.
 */
import { eventSourceUrl } from "./client";

export type StreamTopic = "outage" | "work_order" | "kpis" | "grid_state" | "crew" | "resync" | "hello" | "other";

/** Which topic an SSE event is about, from its event name (or a `type`/`topic` field in its data). */
export function topicOf(eventName: string, data: string): StreamTopic {
  let name = eventName;
  if (!name || name === "message") {
    try {
      const body = JSON.parse(data) as { type?: unknown; topic?: unknown; event?: unknown };
      name = String(body.type ?? body.topic ?? body.event ?? "");
    } catch {
      name = "";
    }
  }
  const n = name.toLowerCase();
  if (n === "resync") return "resync";
  if (n === "hello") return "hello";
  if (n === "asset_status") return "grid_state";
  if (n.startsWith("outage")) return "outage";
  if (n.startsWith("work")) return "work_order";
  if (n.startsWith("crew")) return "crew";
  if (n.includes("kpi") || n.includes("reliab")) return "kpis";
  if (n.includes("grid") || n.includes("state") || n.includes("telemetry")) return "grid_state";
  return "other";
}

/** Event names the server sends (fluxops.ops.stream.MESSAGE_TYPES, plus `hello` on connect). */
const NAMED_EVENTS = ["hello", "asset_status", "outage", "kpi", "resync", "work_order", "crew"];

export function connectStream(onTopic: (t: StreamTopic, data: string) => void, onState: (open: boolean) => void): () => void {
  if (typeof EventSource === "undefined") return () => undefined;
  const es = new EventSource(eventSourceUrl("/api/stream"));
  const handle = (ev: MessageEvent<string>) => onTopic(topicOf(ev.type, ev.data), ev.data);
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  es.onmessage = handle;
  for (const name of NAMED_EVENTS) es.addEventListener(name, handle as EventListener);
  return () => es.close();
}
