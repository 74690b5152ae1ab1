"""What an operator feels, measured in the page (issue 10 §3), for `bench_ui.py`: the network waterfall
(DevTools protocol), inspector open, search fly-to, and each side panel's first data.

Every figure is wall time seen from Python driving headless Chromium: from the user's action (a key
press, a click) to the page showing the answer, polling every 16 ms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

POLL_MS = 16


@dataclass
class Waterfall:
    """Start / end (s, CDP monotonic clock) and encoded bytes per request id."""

    url: dict[str, str] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)
    size: dict[str, float] = field(default_factory=dict)

    def attach(self, cdp: Any) -> None:
        def sent(e: dict[str, Any]) -> None:
            self.url[e["requestId"]] = e["request"]["url"]
            self.start[e["requestId"]] = e["timestamp"]

        def done(e: dict[str, Any]) -> None:
            self.end[e["requestId"]] = e["timestamp"]
            self.size[e["requestId"]] = e["encodedDataLength"]

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.loadingFinished", done)

    def rows(self, since: float | None = None) -> list[tuple[str, float, float, float]]:
        """(path, start offset s, duration s, bytes) per finished request, in start order."""
        if not self.start:
            return []
        t0 = min(self.start.values()) if since is None else since
        out = []
        for rid, s in sorted(self.start.items(), key=lambda kv: kv[1]):
            if s < t0 or rid not in self.end or not self.url[rid].startswith("http"):
                continue
            path = self.url[rid].split("//", 1)[-1].split("/", 1)[-1]
            out.append(("/" + path.split("?token=")[0], s - t0, self.end[rid] - s, self.size.get(rid, 0.0)))
        return out

    def latest_start(self) -> float:
        return max(self.start.values(), default=0.0)


def wait_js(page: Any, js: str, arg: Any = None, timeout_s: float = 60.0) -> float:
    """Seconds until ``js`` is truthy (polled in the page every 16 ms)."""
    t = time.perf_counter()
    page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=POLL_MS)
    return time.perf_counter() - t


# the asset's own details on screen (the attributes table comes with them); its sections may still load
INSPECTOR_DETAILS_JS = """(id) => {
  const i = document.querySelector('[data-testid=inspector]');
  return !!i && i.querySelector('[data-testid=inspector-id]')?.textContent === id
    && !!i.querySelector('table.kv');
}"""

# every section too (AMI chart, related outages and work orders, risk): nothing left loading
INSPECTOR_READY_JS = """(id) => {
  const i = document.querySelector('[data-testid=inspector]');
  return !!i && i.querySelector('[data-testid=inspector-id]')?.textContent === id
    && !!i.querySelector('table.kv') && !i.querySelector('[data-testid=panel-loading]');
}"""

# the map has arrived: centred within a few metres of the target, no longer moving, and deck.gl has drawn
# a frame there with the layers built for that view (the UI's `drawn` probe; older UIs lack it)
FLY_DONE_JS = """([lon, lat]) => {
  const m = window.__fluxops.map;
  const c = m.getCenter();
  const d = window.__fluxops.drawn;
  const drawn = d === undefined
    || (d.current && Math.abs(d.lon - lon) < 1e-4 && Math.abs(d.lat - lat) < 1e-4);
  return !m.isMoving() && Math.abs(c.lng - lon) < 1e-4 && Math.abs(c.lat - lat) < 1e-4 && drawn;
}"""

# after a jump to zoom z: a frame drawn at that zoom with the layers built for the view
DRAWN_AT_ZOOM_JS = """([z]) => {
  const d = window.__fluxops.drawn;
  return d === undefined || (d.current && Math.abs(d.zoom - z) < 1e-6);
}"""


@dataclass
class SearchTimes:
    """Seconds from Enter: details painted, every section loaded, the map drawn at the target."""

    details: float
    complete: float
    arrived: float


def search_and_inspect(page: Any, asset_id: str, lon: float, lat: float) -> SearchTimes:
    """Search an asset id and press Enter; the three times are polled concurrently in the page."""
    page.fill("[data-testid=search-input]", asset_id, timeout=180_000)
    page.wait_for_timeout(300)  # the type-ahead settles; the measure starts at Enter
    page.evaluate(WATCH_JS, [asset_id, lon, lat])
    page.press("[data-testid=search-input]", "Enter", timeout=180_000)
    page.wait_for_function("() => window.__uiWatch.done", timeout=180_000, polling=POLL_MS)
    t = page.evaluate("() => window.__uiWatch.t")
    return SearchTimes(t["details"] / 1000, t["complete"] / 1000, t["arrived"] / 1000)


# Timestamps (performance.now, ms after the key press) of the three milestones, polled every 16 ms in the
# page itself, so one slow milestone does not delay the reading of another.
WATCH_JS = (
    """([id, lon, lat]) => {
  const details = """
    + INSPECTOR_DETAILS_JS
    + """;
  const complete = """
    + INSPECTOR_READY_JS
    + """;
  const arrived = """
    + FLY_DONE_JS
    + """;
  const w = { t: {}, done: false, t0: null };
  window.__uiWatch = w;
  document.querySelector('[data-testid=search-input]').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && w.t0 === null) w.t0 = performance.now();
  }, { capture: true });
  const poll = () => {
    if (w.t0 !== null) {
      const now = performance.now() - w.t0;
      if (w.t.details === undefined && details(id)) w.t.details = now;
      if (w.t.complete === undefined && complete(id)) w.t.complete = now;
      if (w.t.arrived === undefined && arrived([lon, lat])) w.t.arrived = now;
      if (Object.keys(w.t).length === 3) { w.done = true; return; }
    }
    setTimeout(poll, """
    + str(POLL_MS)
    + """);
  };
  poll();
}"""
)


PANEL_READY_JS = """() => {
  const p = document.querySelector('.panel');
  return !!p && !p.querySelector('[data-testid=panel-loading]') && p.innerText.trim().length > 0
    && !/Loading [^\\n]*…/.test(p.innerText);
}"""


def panel_first_data(page: Any, wf: Waterfall) -> list[tuple[str, float, str]]:
    """Per side-panel tab: (tab, seconds from click to first data, slowest request behind it)."""
    tabs: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=tab-bar] > button')].map(b => b.dataset.testid)"
    )
    out = []
    for tab in tabs:
        page.click("[data-testid=tab-outages]" if tab != "tab-outages" else "[data-testid=tab-alarms]")
        page.wait_for_timeout(400)
        before = wf.latest_start()
        t = time.perf_counter()
        page.click(f"[data-testid={tab}]")
        page.wait_for_function(PANEL_READY_JS, timeout=120_000, polling=POLL_MS)
        took = time.perf_counter() - t
        page.wait_for_timeout(200)
        reqs = [r for r in wf.rows(since=before) if r[1] > 0 and "/api/" in r[0]]
        slow = max(reqs, key=lambda r: r[2], default=None)
        note = f"`{slow[0][:60]}` {slow[2] * 1000:.0f} ms" if slow else "no request"
        out.append((tab.removeprefix("tab-"), took, note))
    return out
