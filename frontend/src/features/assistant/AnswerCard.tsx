/** One answer of the assistant: its text with asset ids that fly the map to the asset and open the
 * inspector, its evidence (tool calls with arguments, SQL, row counts) unfolded on demand, the cited
 * passages (open the document there), a table and chart when it is a series, the confirmation of a
 * pending change (operators only), and thumbs up/down with a comment. */
import { useMemo, useState } from "react";
import { api } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { zoomFor } from "../search/search";
import { formatTime } from "../common/format";
import { assetIdsIn, citationPlace, seriesOf, splitAssetIds } from "./answerParts";
import { assistantApi, type Citation, type Evidence, type ToolCall } from "./assistantApi";
import { SeriesView } from "./SeriesView";

export interface AnswerView {
  messageId: string | null;
  text: string;
  evidence: Evidence;
  createdUtc: string | null;
}

/** Fly to an asset and select it (the inspector opens): map payload first, the asset API otherwise. */
async function goToAsset(id: string): Promise<string | null> {
  const data = mapDataStore.get();
  const row = data.byId.get(id);
  if (data.assets && row !== undefined) {
    const a = data.assets;
    selectionStore.update((s) => requestFlyTo(selectAsset(s, id), a.lon[row], a.lat[row], zoomFor(a.typeNames[a.typeCode[row]])));
    return null;
  }
  try {
    const d = await api.asset(id);
    selectionStore.update((s) => requestFlyTo(selectAsset(s, d.asset_id), d.lon, d.lat, zoomFor(d.asset_type)));
    return null;
  } catch (e) {
    return e instanceof Error ? `${id}: ${e.message}` : `${id} is not on the map`;
  }
}

/** Inline SVG icons (no emoji: an offline control-room browser may have no emoji font). */
const THUMB = "M2 7h2.5v7H2zM4.5 7 7.5 1.5c1.2 0 1.8.8 1.6 2L8.7 6H13c.9 0 1.5.8 1.3 1.7l-1.2 5.2c-.2.7-.8 1.1-1.5 1.1H4.5";
function Thumb({ down = false }: { down?: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.3" aria-hidden="true" style={down ? { transform: "rotate(180deg)" } : undefined}>
      <path d={THUMB} />
    </svg>
  );
}
function DocIcon() {
  return (
    <svg width="12" height="12" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.3" aria-hidden="true">
      <path d="M3.5 1.5h6l3 3v10h-9zM9.5 1.5v3h3M5.5 8h5M5.5 10.5h5" />
    </svg>
  );
}

function ToolCallView({ call }: { call: ToolCall }) {
  const r = call.result;
  return (
    <li className="asst-call" data-testid="tool-call" data-tool={call.name}>
      <div>
        <code>{call.name}</code> <span className={`asst-status ${call.status}`}>{call.status}</span>
        {r && <span className="muted small"> · {r.row_count.toLocaleString("en-US")} rows</span>}
        <span className="muted small"> · {call.elapsed_ms.toFixed(0)} ms</span>
      </div>
      <pre className="asst-pre" data-testid="tool-args">{JSON.stringify(call.arguments, null, 1)}</pre>
      {r?.sql.map((s, i) => (
        <pre key={i} className="asst-pre sql" data-testid="tool-sql">
          {s}
        </pre>
      ))}
      {r?.error && <div className="notice error small">{r.error}</div>}
    </li>
  );
}

function Feedback({ threadId, messageId, initial }: { threadId: string; messageId: string; initial: "up" | "down" | null }) {
  const [rating, setRating] = useState<"up" | "down" | null>(initial);
  const [pick, setPick] = useState<"up" | "down" | null>(null);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async (r: "up" | "down") => {
    setBusy(true);
    setError(null);
    try {
      await assistantApi.feedback(threadId, messageId, r, comment.trim());
      setRating(r);
      setPick(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  if (rating) return <div className="muted small" data-testid="feedback-saved">
        <Thumb down={rating === "down"} /> rated {rating === "up" ? "helpful" : "not helpful"} — thank you
      </div>;
  return (
    <div className="asst-feedback">
      <button data-testid="feedback-up" disabled={busy} className={pick === "up" ? "active" : ""} onClick={() => setPick("up")} aria-label="Helpful" title="Helpful">
        <Thumb />
      </button>
      <button data-testid="feedback-down" disabled={busy} className={pick === "down" ? "active" : ""} onClick={() => setPick("down")} aria-label="Not helpful" title="Not helpful">
        <Thumb down />
      </button>
      {pick && (
        <>
          <input data-testid="feedback-comment" placeholder="comment (optional)" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} />
          <button data-testid="feedback-send" disabled={busy} onClick={() => void send(pick)}>
            Send
          </button>
        </>
      )}
      {error && <span className="notice error small">{error}</span>}
    </div>
  );
}

export function AnswerCard(props: {
  answer: AnswerView;
  threadId: string;
  timeZone: string;
  canOperate: boolean;
  rated: "up" | "down" | null;
  streaming?: boolean;
  onCite: (c: Citation) => void;
  onConfirm?: () => void;
}) {
  const { answer, threadId, timeZone, canOperate, rated, streaming, onCite, onConfirm } = props;
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const data = useStore(mapDataStore);
  const calls = useMemo(() => answer.evidence.tool_calls ?? [], [answer.evidence]);
  const known = useMemo(() => assetIdsIn(calls), [calls]);
  const parts = useMemo(() => splitAssetIds(answer.text, (id) => data.byId.has(id) || known.has(id)), [answer.text, data.byId, known]);
  const series = useMemo(() => seriesOf(calls), [calls]);
  const cites = answer.evidence.citations ?? [];
  const pending = answer.evidence.pending_confirmation;
  const ungrounded = answer.evidence.ungrounded_numbers ?? [];
  return (
    <div className="asst-answer" data-testid={streaming ? "assistant-streaming" : "assistant-answer"} data-message-id={answer.messageId ?? ""}>
      <div className="asst-text" data-testid="answer-text">
        {parts.map((p, i) =>
          p.assetId ? (
            <button key={i} className="asst-asset" data-testid="answer-asset" data-asset-id={p.assetId} onClick={() => void goToAsset(p.assetId!).then(setNote)}>
              {p.text}
            </button>
          ) : (
            <span key={i}>{p.text}</span>
          ),
        )}
        {streaming && <span className="asst-caret">▍</span>}
      </div>
      {note && <div className="notice small">{note}</div>}
      {ungrounded.length > 0 && <div className="notice small">Numbers no tool returned: {ungrounded.join(", ")}</div>}
      {series && !streaming && <SeriesView table={series} timeZone={timeZone} />}
      {cites.length > 0 && (
        <ul className="asst-cites">
          {cites.map((c, i) => (
            <li key={i}>
              <button className="linkish" data-testid="citation" data-doc-id={c.doc_id} onClick={() => onCite(c)}>
                <DocIcon /> {citationPlace(c)}
              </button>
            </li>
          ))}
        </ul>
      )}
      {pending && !streaming && (
        <div className="asst-confirm" data-testid="pending-confirmation">
          <div className="small">
            This answer proposes a change: <code>{pending.name}</code> {JSON.stringify(pending.arguments)}
          </div>
          {!canOperate ? (
            <div className="muted small">Needs the operator role to confirm.</div>
          ) : onConfirm ? (
            <button data-testid="confirm-tool" onClick={onConfirm}>
              Confirm and run {pending.name}
            </button>
          ) : (
            <div className="muted small">No longer pending: only the latest answer of a thread can be confirmed.</div>
          )}
        </div>
      )}
      {calls.length > 0 && (
        <div className="asst-evidence">
          <button className="linkish small" data-testid="answer-tools-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? "▾" : "▸"} {calls.length} tool call{calls.length === 1 ? "" : "s"}
            {(answer.evidence.sql?.length ?? 0) > 0 ? " and SQL" : ""}
          </button>
          {open && (
            <ul className="asst-calls" data-testid="tool-calls">
              {calls.map((c) => (
                <ToolCallView key={c.call_id} call={c} />
              ))}
            </ul>
          )}
        </div>
      )}
      {!streaming && (
        <div className="asst-foot muted small">
          {answer.evidence.brain && <span>{answer.evidence.brain === "offline" ? "offline engine" : answer.evidence.brain}</span>}
          {answer.createdUtc && <span> · {formatTime(answer.createdUtc, timeZone)}</span>}
        </div>
      )}
      {!streaming && answer.messageId && <Feedback threadId={threadId} messageId={answer.messageId} initial={rated} />}
    </div>
  );
}
