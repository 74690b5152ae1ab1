/** The assistant's HTTP API (`/api/assistant/*`, `/api/docs/*`) as the chat panel uses it. */
import { getJson, sendJson } from "../../api/client";
import { postStream, type SseEvent } from "./sse";

export interface Citation {
  doc_id: string;
  title: string;
  heading: string;
  line: number;
  page: number | null;
  score: number;
  text: string;
}

export interface ToolResult {
  data: Record<string, unknown>;
  row_count: number;
  sql: string[];
  citations: Citation[];
  error: string | null;
  error_field: string | null;
}

export interface ToolCall {
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  status: string;
  result: ToolResult | null;
  elapsed_ms: number;
}

export interface Evidence {
  brain?: string;
  answerable?: boolean;
  tool_calls?: ToolCall[];
  sql?: string[];
  citations?: Citation[];
  pending_confirmation?: { name: string; arguments: Record<string, unknown> } | null;
  ungrounded_numbers?: string[];
}

export interface Message {
  message_id: string;
  thread_id: string;
  seq: number;
  role: "user" | "assistant";
  content: string;
  evidence: Evidence;
  created_utc: string;
}

export interface Thread {
  thread_id: string;
  title: string;
  created_utc: string;
  updated_utc: string;
}

export interface Feedback {
  feedback_id: string;
  message_id: string;
  rating: "up" | "down";
  comment: string;
}

export interface ThreadDetail extends Thread {
  messages: Message[];
  feedback: Feedback[];
}

export interface DocLine {
  line: number;
  page: number | null;
  text: string;
}

export interface DocDetail {
  doc_id: string;
  title: string;
  source: string;
  pages: number | null;
  lines: DocLine[];
}

export const assistantApi = {
  threads: () => getJson<{ items: Thread[] }>("/api/assistant/threads"),
  thread: (id: string) => getJson<ThreadDetail>(`/api/assistant/threads/${encodeURIComponent(id)}`),
  newThread: () => sendJson<Thread>("POST", "/api/assistant/threads", {}),
  role: () => getJson<{ role: string }>("/api/assistant/tools"),
  feedback: (threadId: string, messageId: string, rating: "up" | "down", comment: string) =>
    sendJson<Feedback>("POST", `/api/assistant/threads/${encodeURIComponent(threadId)}/feedback`, { message_id: messageId, rating, comment }),
  doc: (id: string) => getJson<DocDetail>(`/api/docs/${encodeURIComponent(id)}`),
  ask: (threadId: string, content: string, confirm: boolean, onEvent: (e: SseEvent) => void, signal?: AbortSignal) =>
    postStream(`/api/assistant/threads/${encodeURIComponent(threadId)}/messages`, { content, confirm }, onEvent, signal),
};
