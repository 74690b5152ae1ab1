"""Browser fixtures: a live server with the `tiny` grid and the built UI, and Debian's Chromium
driven by Playwright. Without the built UI or Chromium the tests skip with the reason, except under
FLUXOPS_REQUIRE_BROWSER=1 (CI), where they fail instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_server import CHROMIUM_ARGS, READY_JS, WEB_INDEX, UiServer, start_ui_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def _unavailable() -> str | None:
    if not WEB_INDEX.exists():
        return f"the UI is not built ({WEB_INDEX} missing; run `make web`)"
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("FLUXOPS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FLUXOPS_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread
# while it is open, which breaks every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def ui_server(
    browser_available: None, tmp_path_factory: pytest.TempPathFactory, tiny_grid: Any
) -> Iterator[UiServer]:
    server = start_ui_server(tmp_path_factory.mktemp("e2e-store"), tiny_grid)
    yield server
    server.stop()
    server.store.close()


@pytest.fixture(scope="module")
def browser(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Console errors, uncaught page errors and every request that left the loopback host."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []  # responses >= 400, to name the URL behind a console error

    def console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        self.errors.append(f"{msg.text} ({url})")

    def response(self, r: Any) -> None:
        if r.status >= 400:
            self.failed.append(f"{r.status} {r.url}")


@pytest.fixture
def ui(browser: Any, ui_server: UiServer, request: pytest.FixtureRequest) -> Iterator[tuple[Any, PageWatch]]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    watch = PageWatch()
    page.on("response", watch.response)
    page.on("console", watch.console)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def on_request(req: Any) -> None:
        if not req.url.startswith((ui_server.base_url, "data:", "blob:")):
            watch.external.append(req.url)

    page.on("request", on_request)
    page.goto(ui_server.ui_url)
    page.wait_for_function(READY_JS, timeout=60_000)
    yield page, watch
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
