"""``fluxops assistant ask|questions|eval`` and ``fluxops docs add|list``: the operator's assistant from the
command line, over the same services the API wires (`fluxops.storage.assistant_context`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import typer

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, settings_for
from fluxops.core.errors import InvalidInputError, NotFoundError

PUBLIC_SET = "demo.jsonl"


@contextmanager
def _context(data_dir: Path | None, *, actor: str = "cli") -> Iterator[tuple[Any, Any, Any]]:
    """(settings, ToolContext, thread store) over the configured store, its ops records and lake."""
    from fluxops.assistant.retrieval import DocumentIndex, default_embedder
    from fluxops.ops.service import OpsService
    from fluxops.storage import open_store
    from fluxops.storage.ami_analytics import AmiAnalytics
    from fluxops.storage.assistant_context import build_tool_context
    from fluxops.storage.assistant_store import AssistantTableStore
    from fluxops.storage.lake import AmiLake
    from fluxops.storage.ops_store import OpsTableStore

    settings = settings_for(data_dir)
    store = open_store(settings)
    try:
        grid = store.read_grid()
        if grid is None:
            raise NotFoundError("no grid is loaded: run `fluxops generate` first")
        threads = AssistantTableStore(store)
        threads.ensure_tables()
        analytics = None
        if settings.lake_dir.exists():
            analytics = AmiAnalytics(AmiLake(settings.lake_dir))
            analytics.write_dims(grid)
        ctx = build_tool_context(
            store,
            grid,
            ops=OpsService(OpsTableStore(store), grid),
            analytics=analytics,
            lake_dir=settings.lake_dir,
            cascade=None,
            docs=DocumentIndex(
                threads.list_documents(),
                embedder=default_embedder(settings.assistant.dense_retrieval),
                cache_dir=settings.data_dir / "assistant" / "embeddings",
            ),
            actor=actor,
            sql_timeout_s=settings.assistant.sql_timeout_s,
        )
        yield settings, ctx, threads
    finally:
        store.close()


def _brain(settings: Any, offline: bool) -> Any:
    from fluxops.assistant.offline import OfflineBrain
    from fluxops.assistant.remote import brain_from_settings

    if offline:
        return OfflineBrain()
    s = settings.assistant
    return brain_from_settings(
        s.base_url,
        s.model,
        s.api_key.get_secret_value() if s.api_key else None,
        timeout_s=s.timeout_s,
        max_retries=s.max_retries,
    )


def register(app: typer.Typer) -> None:
    assistant = typer.Typer(help="The operator's assistant.", no_args_is_help=True)
    docs = typer.Typer(help="Documents the assistant searches.", no_args_is_help=True)
    app.add_typer(assistant, name="assistant")
    app.add_typer(docs, name="docs")

    @assistant.command("ask")
    def ask(
        question: str = typer.Argument(..., help="The question"),
        role: str = typer.Option("operator", help="viewer | operator | admin"),
        offline: bool = typer.Option(False, help="Use the offline engine even if a model is configured"),
        evidence: bool = typer.Option(False, help="Print the evidence (tool calls, SQL, citations) as JSON"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Ask one question; prints the answer (and its evidence)."""
        from fluxops.assistant.engine import Assistant

        with _context(data_dir) as (settings, ctx, _threads):
            a = Assistant(_brain(settings, offline), ctx, role=role)
            for ev in a.run(question):
                if ev["event"] == "tool_call":
                    console.print(f"[dim]→ {ev['data']['name']}({ev['data']['arguments']})[/dim]")
                elif ev["event"] == "answer":
                    console.print(ev["data"]["text"], markup=False)
                    if evidence:
                        console.print_json(json.dumps(ev["data"]["evidence"], default=str))

    @assistant.command("questions")
    def questions(
        out: Path = typer.Option(..., "--out", help="JSON lines file to write"),
        seed: int = typer.Option(7, help="Which ids are picked"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Write the public question set over the loaded grid (gold recipes, never typed-in answers)."""
        from fluxops.assistant.evaluation import build_question_set

        with _context(data_dir) as (_settings, ctx, _threads):
            qs = build_question_set(ctx, seed=seed)
        out.write_text("".join(json.dumps(q, sort_keys=True) + "\n" for q in qs), encoding="utf-8")
        console.print(f"{len(qs)} questions written to {out}")

    @assistant.command("eval")
    def evaluate(
        file: Path | None = typer.Argument(
            None, help=f"Question set (JSON lines; default: the shipped {PUBLIC_SET})"
        ),
        offline: bool = typer.Option(
            True, help="Evaluate the offline engine (--no-offline: the configured model)"
        ),
        report: Path | None = typer.Option(None, help="Write every result as JSON here"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Ask every question, compute its gold from the store, score; prints the summary."""
        from fluxops.assistant.engine import Assistant
        from fluxops.assistant.evaluation import load_questions, run_eval

        if file is None:
            text = (resources.files("fluxops.assistant") / "evalsets" / PUBLIC_SET).read_text(
                encoding="utf-8"
            )
        else:
            if not file.exists():
                raise InvalidInputError(f"no file {file}", field="file")
            text = file.read_text(encoding="utf-8")
        qs = load_questions(text.splitlines())
        with _context(data_dir) as (settings, ctx, _threads):
            brain = _brain(settings, offline)
            results, summary = run_eval(qs, ctx, lambda role: Assistant(brain, ctx, role=role))
        for r in results:
            if not r.passed:
                console.print(
                    f"[red]FAIL[/red] {r.qid} [{r.category}] {r.question}: {'; '.join(r.reasons)}",
                    markup=True,
                )
        if report is not None:
            report.write_text(
                json.dumps(
                    {"summary": summary, "results": [vars(r) for r in results]}, indent=1, default=str
                ),
                encoding="utf-8",
            )
        console.print_json(json.dumps(summary))

    @docs.command("add")
    def docs_add(
        file: Path = typer.Argument(..., help="A Markdown (.md), text (.txt) or PDF (.pdf) file"),
        title: str | None = typer.Option(None, help="Defaults to the file name"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Add a document to the assistant's search (checked and indexed before it is stored)."""
        from fluxops.assistant.documents import MAX_UPLOAD_BYTES, convert, format_for_filename
        from fluxops.assistant.models import Document
        from fluxops.assistant.retrieval import DocumentIndex
        from fluxops.core.clock import utc_now
        from fluxops.storage import open_store
        from fluxops.storage.assistant_store import AssistantTableStore

        fmt = format_for_filename(file.name)
        if not file.is_file():
            raise InvalidInputError(f"no file {file}", field="file")
        if file.stat().st_size > MAX_UPLOAD_BYTES:
            raise InvalidInputError(
                f"{file.name} is {file.stat().st_size:,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted",
                field="file",
            )
        name = title or file.stem
        conv = convert(file.read_bytes(), fmt, name)
        store = open_store(settings_for(data_dir))
        try:
            threads = AssistantTableStore(store)
            threads.ensure_tables()
            doc = Document(f"doc_{uuid.uuid4().hex[:12]}", name, conv.markdown, "cli", utc_now())
            passages = sum(
                1 for c in DocumentIndex([*threads.list_documents(), doc]).chunks if c.doc_id == doc.doc_id
            )
            if passages == 0:
                raise InvalidInputError(f"{file.name} has no text to search", field="file")
            threads.add_document(doc)
        finally:
            store.close()
        pages = f", {conv.pages} pages" if conv.pages is not None else ""
        console.print(f"added {doc.doc_id} ({name}, {conv.format}{pages}, {passages} passages)", markup=False)

    @docs.command("list")
    def docs_list(data_dir: Path | None = DATA_DIR_OPTION) -> None:
        """Shipped and uploaded documents."""
        from fluxops.assistant.retrieval import DocumentIndex
        from fluxops.storage import open_store
        from fluxops.storage.assistant_store import AssistantTableStore

        store = open_store(settings_for(data_dir))
        try:
            threads = AssistantTableStore(store)
            threads.ensure_tables()
            index = DocumentIndex(threads.list_documents())
        finally:
            store.close()
        for doc_id in index.documents:
            chunks = [c for c in index.chunks if c.doc_id == doc_id]
            console.print(
                f"{doc_id}\t{chunks[0].title if chunks else ''}\t{len(chunks)} passages", markup=False
            )
