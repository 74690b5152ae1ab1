"""The packaged UI is gzip-compressed once per file, not per request; hashed assets are cacheable."""

from __future__ import annotations

import gzip
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.testclient import TestClient

from fluxops.api.static import IMMUTABLE, PrecompressedStatic


def _app(web: Path) -> FastAPI:
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)  # as the server does
    app.mount("/", PrecompressedStatic(directory=web, html=True), name="web")
    return app


def _web(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>" + "<p>grid</p>" * 400)
    (tmp_path / "assets" / "index-abc123.js").write_text("const feeder = 1;\n" * 5000)
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG" + bytes(5000))
    return tmp_path


def test_js_is_gzip_once_and_immutable(tmp_path: Path) -> None:
    web = _web(tmp_path)
    static = PrecompressedStatic(directory=web)
    with TestClient(_app(web)) as client:
        plain = (web / "assets" / "index-abc123.js").read_bytes()
        for _ in range(2):
            r = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
            assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
            assert r.content == plain  # the client decodes; one encoding, not two
            assert r.headers["cache-control"] == IMMUTABLE and r.headers["vary"] == "Accept-Encoding"
            assert int(r.headers["content-length"]) < len(plain) / 10
        raw = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in raw.headers and raw.content == plain
    body = static._compressed(str(web / "assets" / "index-abc123.js"), len(plain), 1)
    assert gzip.decompress(body) == plain


def test_index_revalidated_and_binary_untouched(tmp_path: Path) -> None:
    web = _web(tmp_path)
    with TestClient(_app(web)) as client:
        r = client.get("/", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert "immutable" not in r.headers.get("cache-control", "")
        png = client.get("/assets/logo.png", headers={"Accept-Encoding": "gzip"})
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        etag = r.headers["etag"]
        again = client.get("/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
        assert again.status_code == 304
        assert client.get("/nope.js").status_code == 404


def test_changed_file_is_compressed_again(tmp_path: Path) -> None:
    web = _web(tmp_path)
    with TestClient(_app(web)) as client:
        client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
        (web / "assets" / "index-abc123.js").write_text("const substation = 2;\n" * 6000)
        r = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
        assert r.content.startswith(b"const substation")


def test_range_requests_get_the_plain_file(tmp_path: Path) -> None:
    web = _web(tmp_path)
    with TestClient(_app(web)) as client:
        r = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
        assert r.status_code == 206 and r.content == b"const feed"
