/** A document as the search indexed it, opened at the place a citation quotes: the passage's lines
 * highlighted and scrolled into view, with its page (uploaded PDFs) and line numbers. */
import { useEffect, useRef } from "react";
import { useApi } from "../../api/useApi";
import { assistantApi, type Citation } from "./assistantApi";
import { citationPlace } from "./answerParts";

export function DocViewer({ cite, onClose }: { cite: Citation; onClose: () => void }) {
  const doc = useApi(() => assistantApi.doc(cite.doc_id), [cite.doc_id]);
  const hitRef = useRef<HTMLDivElement | null>(null);
  const span = cite.text.split("\n").length;
  const hit = (line: number) => line >= cite.line && line < cite.line + span;

  useEffect(() => {
    hitRef.current?.scrollIntoView({ block: "center" });
  }, [doc.data]);

  let page: number | null = null;
  return (
    <div className="asst-doc" data-testid="doc-viewer" role="dialog" aria-label={`Document ${cite.title}`}>
      <div className="asst-doc-head">
        <strong data-testid="doc-title">{cite.title}</strong>
        <button onClick={onClose} data-testid="doc-close" aria-label="Close document">
          ✕
        </button>
      </div>
      <div className="muted small" data-testid="doc-place">
        {citationPlace(cite)}
      </div>
      {doc.loading && <div className="muted">loading the document…</div>}
      {doc.error && <div className="notice error">{doc.error}</div>}
      {doc.data && (
        <div className="asst-doc-body">
          {doc.data.lines.map((l) => {
            const newPage = l.page !== null && l.page !== page;
            page = l.page;
            const isHit = hit(l.line);
            return (
              <div key={l.line}>
                {newPage && <div className="asst-doc-page">page {l.page}</div>}
                <div
                  className={isHit ? "asst-doc-line hit" : "asst-doc-line"}
                  data-testid={isHit ? "doc-line-hit" : undefined}
                  data-line={l.line}
                  ref={isHit && l.line === cite.line ? hitRef : undefined}
                >
                  <span className="asst-doc-no">{l.line}</span>
                  <span>{l.text || " "}</span>
                </div>
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
