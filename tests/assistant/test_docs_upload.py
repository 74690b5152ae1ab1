"""Uploading documents for the assistant's search: Markdown, text and real PDFs (pages and bookmarks
kept, citations naming the page), over HTTP (`POST /api/docs`, admin) and the CLI (`fluxops docs add`);
bad files refused with the problem named and nothing stored; an upload is searchable at once."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pdf_samples import encrypted, minimal_pdf, with_outline

from fluxops.assistant.documents import MAX_UPLOAD_BYTES, convert
from fluxops.assistant.models import Document
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.core.clock import utc_now
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid

TOKEN = "docs-test-bootstrap-token-0123456789"
MANUAL = [
    ["Feeder switching manual", "Vault isolation", "Ventilate the vault for ten minutes before entry."],
    ["Recloser lockout", "After a lockout wait for the patrol report before closing the recloser."],
]


def manual_pdf() -> bytes:
    return with_outline(minimal_pdf(MANUAL), [("Vault isolation", 0), ("Recloser lockout", 1)])


def test_pdf_pages_and_bookmarks_become_cited_passages() -> None:
    conv = convert(manual_pdf(), "pdf", "Switching manual")
    assert conv.format == "pdf" and conv.pages == 2
    doc = Document("doc_manual", "Switching manual", conv.markdown, "tester", utc_now())
    hits = DocumentIndex([doc]).search("patrol report before closing recloser after lockout", limit=3)
    top = hits[0]
    assert top.doc_id == "doc_manual" and top.page == 2
    assert top.heading == "Switching manual > Recloser lockout"
    assert conv.markdown.splitlines()[top.line - 1].startswith("After a lockout")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, not a pdf", "not a PDF"),
        (minimal_pdf([[]]), "no text layer"),
        (encrypted(minimal_pdf(MANUAL)), "encrypted"),
        (minimal_pdf(MANUAL)[:200], "cannot be read"),
        (b"%PDF-1.4\n" + b"0" * (MAX_UPLOAD_BYTES + 1), "at most"),
    ],
    ids=["empty", "not-pdf", "no-text", "encrypted", "truncated", "too-big"],
)
def test_bad_pdfs_are_refused_naming_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        convert(data, "pdf", "x")
    assert message in err.value.message and err.value.field == "file"


def test_text_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        convert(b"\xff\xfe\xfa binary", "text", "x")
    with pytest.raises(InvalidInputError, match="no text"):
        convert(b"   \n", "markdown", "x")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[str]:
    from fluxops.api.app import create_app
    from fluxops.core.config import ServerSettings, Settings
    from fluxops.storage import open_store

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("docs-upload"), server=ServerSettings(bootstrap_token=TOKEN)
    )
    store = open_store(settings)
    store.load_grid(tiny_grid)
    app = create_app(settings, store=store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv.should_exit = True
    thread.join(timeout=30)
    store.close()


def _client(base: str, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def _ask(c: httpx.Client, question: str) -> dict[str, Any]:
    tid = c.post("/api/assistant/threads", json={}).json()["thread_id"]
    r = c.post(f"/api/assistant/threads/{tid}/messages", json={"content": question})
    assert r.status_code == 200, r.text
    last = r.text.strip().split("\n\n")[-1]
    import json

    data: dict[str, Any] = json.loads(last.split("data: ", 1)[1])
    return data


def test_pdf_upload_over_http_is_searchable_and_cited_with_its_page(server: str) -> None:
    with _client(server) as admin:
        viewer_token = admin.post("/api/admin/keys", json={"role": "viewer", "label": "docs"}).json()["token"]
        body = {
            "title": "Switching manual",
            "format": "pdf",
            "content_base64": base64.b64encode(manual_pdf()).decode(),
        }
        with _client(server, viewer_token) as viewer:
            assert viewer.post("/api/docs", json=body).status_code == 403
        r = admin.post("/api/docs", json=body)
        assert r.status_code == 201, r.text
        up = r.json()
        assert up["format"] == "pdf" and up["pages"] == 2 and up["passages"] == 3
        answer = _ask(admin, "After a recloser lockout what do we wait for before closing it?")
        cite = answer["evidence"]["citations"][0]
        assert cite["doc_id"] == up["doc_id"] and cite["page"] == 2
        assert "page 2" in answer["text"]
        doc = admin.get(f"/api/docs/{up['doc_id']}").json()
        assert doc["pages"] == 2 and doc["source"] == "uploaded"
        line = next(ln for ln in doc["lines"] if ln["line"] == cite["line"])
        assert line["page"] == 2 and line["text"].startswith("After a lockout")
        shipped = admin.get("/api/docs/ieee-1366").json()
        assert shipped["source"] == "shipped" and shipped["passages"][0]["page"] is None
        assert admin.get("/api/docs/doc_nothing").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"format": "pdf", "content_base64": base64.b64encode(b"plain words").decode()},
            "content_base64",
            "not a PDF",
        ),
        (
            {"format": "pdf", "content_base64": base64.b64encode(minimal_pdf([[]])).decode()},
            "content_base64",
            "no text layer",
        ),
        (
            {"format": "pdf", "content_base64": base64.b64encode(encrypted(minimal_pdf(MANUAL))).decode()},
            "content_base64",
            "encrypted",
        ),
        ({"format": "pdf", "content_base64": "@@@"}, "content_base64", ""),
        ({"format": "pdf", "content": "# a pdf as text"}, "format", "content_base64"),
        ({"format": "markdown"}, "content", "exactly one"),
    ],
    ids=["not-pdf", "no-text", "encrypted", "not-base64", "pdf-as-text", "no-content"],
)
def test_bad_uploads_are_4xx_and_store_nothing(
    server: str, body: dict[str, Any], field: str, message: str
) -> None:
    with _client(server) as admin:
        before = admin.get("/api/docs").json()["count"]
        r = admin.post("/api/docs", json={"title": "Bad", **body})
        assert r.status_code == 422, r.text
        err = r.json()
        assert err["details"]["field"] == field and message in err["message"]
        assert admin.get("/api/docs").json()["count"] == before


def test_cli_docs_add_pdf_and_bad_files(tmp_path: Path, tiny_grid: Grid) -> None:
    from fluxops.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["FLUXOPS_DATA_DIR"] = str(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from fluxops.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    (tmp_path / "manual.pdf").write_bytes(manual_pdf())
    r = run("docs", "add", str(tmp_path / "manual.pdf"), "--title", "Switching manual")
    assert r.returncode == 0, r.stderr
    assert "added doc_" in r.stdout and "pdf, 2 pages, 3 passages" in r.stdout
    (tmp_path / "scan.pdf").write_bytes(minimal_pdf([[]]))
    (tmp_path / "locked.pdf").write_bytes(encrypted(minimal_pdf(MANUAL)))
    (tmp_path / "fake.pdf").write_bytes(b"<html>not a pdf</html>")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    for name, message in [
        ("scan.pdf", "no text layer"),
        ("locked.pdf", "encrypted"),
        ("fake.pdf", "not a PDF"),
        ("empty.md", "empty"),
        ("sheet.xlsx", ".xlsx is not supported"),
        ("missing.pdf", "no file"),
    ]:
        r = run("docs", "add", str(tmp_path / name))
        assert r.returncode != 0 and message in r.stderr, (name, r.stderr)
        assert len([ln for ln in r.stderr.strip().splitlines() if ln.strip()]) == 1, r.stderr
    r = run("docs", "list")
    assert r.stdout.count("doc_") == 1 and "Switching manual" in r.stdout
    r = run("assistant", "ask", "What do we wait for after a recloser lockout?")
    assert r.returncode == 0 and "page 2" in r.stdout, r.stdout
