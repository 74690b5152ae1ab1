/**
 * Server-sent events over a POST (EventSource only does GET): the answer of
 * `POST /api/assistant/threads/{id}/messages` read from the response body as it arrives.
 */
import { ApiError } from "../../api/client";
import { getToken } from "../../api/auth";

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Complete events in `buffer` and the unfinished rest (events end with a blank line). */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const text = buffer.replace(/\r\n/g, "\n");
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length === 0) continue;
    const raw = data.join("\n");
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* a non-JSON data line stays text */
    }
    events.push({ event, data: parsed });
  }
  return { events, rest };
}

/** POST `body` as JSON and hand each event to `onEvent` as it streams in. */
export async function postStream(path: string, body: unknown, onEvent: (e: SseEvent) => void, signal?: AbortSignal): Promise<void> {
  const headers = new Headers({ "Content-Type": "application/json", Accept: "text/event-stream" });
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const res = await fetch(path, { method: "POST", headers, body: JSON.stringify(body), signal });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    let code = "";
    try {
      const b = (await res.json()) as { message?: string; code?: string };
      if (b.message) message = b.message;
      if (b.code) code = b.code;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, code, message);
  }
  if (!res.body) throw new ApiError(res.status, "", "the answer stream is empty");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const { events, rest } = parseSse(buffer);
    buffer = rest;
    events.forEach(onEvent);
  }
  const { events } = parseSse(buffer + "\n\n");
  events.forEach(onEvent);
}
