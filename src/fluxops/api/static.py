"""Serves the built frontend (``fluxops/web``) at ``/`` when it exists.

``FLUXOPS_WEB_DIR`` points the server at another build (a developer building the UI into a private folder
while other servers keep serving the packaged one).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(os.environ.get("FLUXOPS_WEB_DIR") or Path(__file__).resolve().parent.parent / "web")


def mount_web(app: FastAPI) -> None:
    if (WEB_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
