/**
 * The operator's assistant: threads (new, reopen), a question box, the answer streaming in (tool calls
 * as they run, then the text), each answer with its evidence, citations, series and feedback
 * (`AnswerCard`), and the document a citation opens (`DocViewer`). A change a tool proposes runs only
 * when an operator confirms it here; a viewer's assistant never offers one (the server gives viewers
 * read-only tools).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { useStore } from "../../state/store";
import { uiStore } from "../../state/ui";
import { formatTime } from "../common/format";
import { AnswerCard } from "./AnswerCard";
import { DocViewer } from "./DocViewer";
import { assistantApi, type Citation, type Message, type Thread, type ThreadDetail, type ToolCall } from "./assistantApi";
import type { SseEvent } from "./sse";
import "./assistant.css";

interface Live {
  question: string;
  text: string;
  calls: ToolCall[];
}

const OPERATOR_ROLES = new Set(["operator", "admin"]);

/** The question an answer replied to: confirming re-sends it with `confirm: true`, so the answer to the
 * confirmed call reads as an answer to that question. */
function questionBefore(messages: Message[], seq: number): string | null {
  const q = [...messages].reverse().find((x) => x.role === "user" && x.seq < seq);
  return q ? q.content : null;
}

function applyEvent(live: Live, e: SseEvent): Live {
  const d = (e.data ?? {}) as Record<string, unknown>;
  if (e.event === "delta") return { ...live, text: live.text + String(d.text ?? "") };
  if (e.event === "tool_call") {
    const call: ToolCall = { call_id: String(d.call_id), name: String(d.name), arguments: {}, status: "running", result: null, elapsed_ms: 0 };
    if (typeof d.arguments === "object" && d.arguments !== null) call.arguments = d.arguments as Record<string, unknown>;
    return { ...live, calls: [...live.calls, call] };
  }
  if (e.event === "tool_result") {
    const rec = d as unknown as ToolCall;
    const known = live.calls.some((c) => c.call_id === rec.call_id);
    return { ...live, calls: known ? live.calls.map((c) => (c.call_id === rec.call_id ? rec : c)) : [...live.calls, rec] };
  }
  return live;
}

export function AssistantPanel() {
  const ui = useStore(uiStore);
  const [role, setRole] = useState<string | null>(null);
  const [threads, setThreads] = useState<Thread[] | null>(null);
  const [threadId, setThreadId] = useState<string | null>(null);
  const [detail, setDetail] = useState<ThreadDetail | null>(null);
  const [loadingThread, setLoadingThread] = useState(false);
  const [question, setQuestion] = useState("");
  const [live, setLive] = useState<Live | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cite, setCite] = useState<Citation | null>(null);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement | null>(null);

  const loadThreads = useCallback(async () => {
    try {
      setThreads((await assistantApi.threads()).items);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  const openThread = useCallback(async (id: string | null) => {
    setThreadId(id);
    setCite(null);
    if (!id) {
      setDetail(null);
      return;
    }
    setLoadingThread(true);
    try {
      setDetail(await assistantApi.thread(id));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoadingThread(false);
    }
  }, []);

  useEffect(() => {
    void loadThreads();
    assistantApi
      .role()
      .then((r) => setRole(r.role))
      .catch(() => setRole(null));
    return () => abort.current?.abort();
  }, [loadThreads]);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [detail, live?.text, live?.calls.length]);

  const ask = async (content: string, confirm = false) => {
    const text = content.trim();
    if (!text || live) return;
    setError(null);
    let id = threadId;
    try {
      if (!id) {
        id = (await assistantApi.newThread()).thread_id;
        setThreadId(id);
      }
      setLive({ question: text, text: "", calls: [] });
      setQuestion("");
      const ctl = new AbortController();
      abort.current = ctl;
      let failed: string | null = null;
      await assistantApi.ask(
        id,
        text,
        confirm,
        (e) => {
          if (e.event === "error") failed = String((e.data as { message?: unknown })?.message ?? "the assistant failed");
          else setLive((l) => (l ? applyEvent(l, e) : l));
        },
        ctl.signal,
      );
      if (failed) setError(failed);
    } catch (e) {
      if (!(e instanceof DOMException && e.name === "AbortError")) setError(e instanceof Error ? e.message : String(e));
    } finally {
      abort.current = null;
      if (id) {
        const d = await assistantApi.thread(id).catch(() => null);
        if (d) setDetail(d);
      }
      setLive(null);
      void loadThreads();
    }
  };

  const canOperate = role !== null && OPERATOR_ROLES.has(role);
  const ratings = new Map((detail?.feedback ?? []).map((f) => [f.message_id, f.rating]));
  const messages = detail?.messages ?? [];
  const lastAssistant = [...messages].reverse().find((m) => m.role === "assistant");

  return (
    <div className="assistant" data-testid="assistant-panel">
      <div className="asst-bar">
        <select
          data-testid="assistant-threads"
          aria-label="Threads"
          value={threadId ?? ""}
          onChange={(e) => void openThread(e.target.value || null)}
          disabled={!!live}
        >
          <option value="">{threads === null ? "loading threads…" : `New thread (${threads.length} earlier)`}</option>
          {(threads ?? []).map((t) => (
            <option key={t.thread_id} value={t.thread_id}>
              {t.title} · {formatTime(t.updated_utc, ui.timeZone)}
            </option>
          ))}
        </select>
        <button data-testid="assistant-new-thread" disabled={!!live} onClick={() => void openThread(null)}>
          New thread
        </button>
      </div>
      {role && <div className="muted small">Signed in as {role}: {canOperate ? "changes a tool proposes run after you confirm them" : "read-only tools"}.</div>}
      <div className="asst-messages" data-testid="assistant-messages">
        {loadingThread && <div className="muted">loading the thread…</div>}
        {!loadingThread && messages.length === 0 && !live && (
          <div className="muted small">
            Ask about assets, load, voltage, outages, reliability, work orders, a cascade (“what if FDR-… fails?”), the procedures and standards, or
            the data (SQL). Answers show the tools and data behind them.
          </div>
        )}
        {threadId &&
          messages.map((m) =>
            m.role === "user" ? (
              <div key={m.message_id} className="asst-question" data-testid="assistant-question">
                {m.content}
              </div>
            ) : (
              <AnswerCard
                key={m.message_id}
                answer={{ messageId: m.message_id, text: m.content, evidence: m.evidence, createdUtc: m.created_utc }}
                threadId={threadId}
                timeZone={ui.timeZone}
                canOperate={canOperate}
                rated={ratings.get(m.message_id) ?? null}
                onCite={setCite}
                onConfirm={m === lastAssistant && !live ? () => void ask(questionBefore(messages, m.seq) ?? `Confirm ${m.evidence.pending_confirmation?.name ?? ""}`, true) : undefined}
              />
            ),
          )}
        {live && (
          <>
            <div className="asst-question">{live.question}</div>
            {live.calls.length > 0 && (
              <ul className="asst-progress small" data-testid="assistant-progress">
                {live.calls.map((c) => (
                  <li key={c.call_id}>
                    {c.status === "running" ? "…" : c.status === "ok" ? "✓" : "⚠"} <code>{c.name}</code> {c.status === "running" ? "running…" : c.status}
                  </li>
                ))}
              </ul>
            )}
            {live.text ? (
              <AnswerCard
                answer={{ messageId: null, text: live.text, evidence: { tool_calls: live.calls }, createdUtc: null }}
                threadId={threadId ?? ""}
                timeZone={ui.timeZone}
                canOperate={false}
                rated={null}
                streaming
                onCite={setCite}
              />
            ) : (
              <div className="muted small" data-testid="assistant-thinking">
                working…
              </div>
            )}
          </>
        )}
        <div ref={bottom} />
      </div>
      {error && (
        <div className="notice error" data-testid="assistant-error">
          {error}
        </div>
      )}
      <form
        className="asst-ask"
        onSubmit={(e) => {
          e.preventDefault();
          void ask(question);
        }}
      >
        <textarea
          data-testid="assistant-input"
          placeholder="Ask a question…"
          value={question}
          maxLength={4000}
          rows={2}
          onChange={(e) => setQuestion(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              void ask(question);
            }
          }}
        />
        <button type="submit" data-testid="assistant-send" disabled={!!live || !question.trim()}>
          {live ? "Answering…" : "Ask"}
        </button>
      </form>
      {cite && <DocViewer cite={cite} onClose={() => setCite(null)} />}
    </div>
  );
}
