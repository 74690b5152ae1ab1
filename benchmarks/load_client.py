"""The clients of `bench_load_api`: a minimal HTTP/1.1 keep-alive client (asyncio streams, uvloop when
installed) and the route mix they draw from, closed loop or with an operator's think time.

Why not httpx: at 64 clients the benchmark process itself, on the same two cores as the server, spent
about a millisecond of CPU per request in httpx (request building, header models, decompression), CPU the
server under test then lacked. This client sends one GET per round trip on its own connection and reads
the answer to its last byte (Content-Length or chunked), without decoding the body: the latency measured
is still request sent → whole answer read, and the server does the same work (gzip included: the client
sends ``Accept-Encoding: gzip`` like a browser).

Two load profiles (issue 8 §5 asks for 64 clients; how they behave decides what "64 clients" means):

* ``closed``: each client sends its next request the moment the previous answer is read (zero think
  time). The offered rate is whatever the server answers; by Little's law a p99 of 200 ms at 64 clients
  needs ≥ 320 answers/s.
* ``console``: each client is an operator console and waits an exponentially distributed think time
  (mean ``think_mean_s``) after each answer. What the console does (frontend/src/app/App.tsx): it polls
  outages, grid state and the live figures every 30 s, reloads outages and the grid state on every SSE
  outage/KPI message (a few a minute under the demo feed), and the operator clicks assets and pans the
  map (asset detail, bbox pages) every few seconds while working. A 2 s mean between one console's
  requests is a busy operator on a stormy day: 64 consoles offer ~32 requests/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np

ARROW = "application/vnd.apache.arrow.stream"
KM_PER_DEG_LAT = 111.32
# route name -> share of requests (a UI session: mostly map panning and detail clicks)
MIX = {
    "asset": 0.20,
    "bbox": 0.25,
    "kpis": 0.10,
    "outages": 0.15,
    "grid_state": 0.10,
    "map": 0.03,
    "analytics": 0.17,
}
TARGET_ROUTES = ("asset", "bbox", "kpis", "outages")  # the p99 ≤ 200 ms routes
NO_STATUS = 599  # a transport error: no HTTP status came back


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class Connection:
    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        return self.reader, self.writer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, path: str, params: dict[str, object], headers: dict[str, str]) -> Answer:
        """One GET. A kept-alive connection the server closed while the client was idle (uvicorn
        closes after 5 s; the console profile thinks longer) is retried once on a new one, as a
        browser does; any other transport error is the answer's."""
        reused = self.writer is not None and not self.writer.is_closing()
        try:
            return await self._get(path, params, headers)
        except TRANSPORT_ERRORS:
            if not reused:
                raise
            return await self._get(path, params, headers)

    async def _get(self, path: str, params: dict[str, object], headers: dict[str, str]) -> Answer:
        reader, writer = await self._open()
        target = f"{path}?{urlencode(params)}" if params else path
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.auth}"
            f"Accept-Encoding: gzip\r\n{extra}\r\n"
        )
        try:
            writer.write(head.encode("latin-1"))
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            hdrs = {}
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
            if "content-length" in hdrs:
                body = await reader.readexactly(int(hdrs["content-length"]))
            elif hdrs.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    parts.append(await reader.readexactly(size + 2))
                    if size == 0:
                        break
                body = b"".join(p[:-2] for p in parts)
            else:
                body = b""
            if hdrs.get("connection", "").lower() == "close":
                await self.close()
            return Answer(status, hdrs, body)
        except TRANSPORT_ERRORS:
            await self.close()  # the next request opens a new connection
            raise


TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, TimeoutError)


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@dataclass
class Sample:
    route: str
    ms: float
    status: int
    data_age_s: float | None = None


class Clients:
    """``n`` clients drawing requests from `MIX` (seeded), each on its own keep-alive connection;
    ``think_mean_s`` > 0 waits an exponential think time after each answer (the console profile)."""

    def __init__(
        self,
        base: str,
        token: str,
        *,
        n: int,
        seed: int,
        ids: list[str],
        centres: list[tuple[float, float]],
        think_mean_s: float = 0.0,
    ) -> None:
        self.base, self.token, self.n, self.ids, self.centres = base, token, n, ids, centres
        self.think_mean_s = think_mean_s
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.routes = list(MIX)
        self.weights = [MIX[r] for r in self.routes]

    def _request(self, route: str, etag: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, str]]:
        rng = self.rng
        if route == "asset":
            return f"/api/assets/{rng.choice(self.ids)}", {}, {}
        if route == "bbox":
            lon, lat = rng.choice(self.centres)
            km = rng.uniform(0.5, 2.0)
            dlat = km / 2 / KM_PER_DEG_LAT
            dlon = km / 2 / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
            box = f"{lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}"
            return "/api/assets", {"bbox": box, "limit": 500}, {}
        if route == "kpis":
            return "/api/kpis", {}, {}
        if route == "outages":
            return "/api/outages", {"status": "active", "limit": 200}, {}
        if route == "grid_state":  # as the map does: the compact snapshot once, then diffs since it
            params: dict[str, Any] = {"format": "compact"}
            if "version" in etag:
                params["changed_since"] = etag["version"]
            h = {"Accept": ARROW}
            if etag.get("url") == str(params) and "etag" in etag:  # a browser revalidates the same URL
                h["If-None-Match"] = etag["etag"]
            return "/api/grid/state", params, h
        if route == "map":
            return "/api/map/assets", {}, {"Accept": ARROW}
        path = rng.choice(["/api/ami/transformers/latest", "/api/ami/feeders/load"])
        return path, {"limit": 500}, {}

    async def _think(self) -> None:
        if self.think_mean_s > 0:
            await asyncio.sleep(self.rng.expovariate(1.0 / self.think_mean_s))

    async def _client(self, stop_at: float) -> None:
        etag: dict[str, str] = {}
        host, port = self.base.removeprefix("http://").split(":")
        conn = Connection(host, int(port), self.token)  # one keep-alive connection per client
        try:
            if self.think_mean_s > 0:  # consoles do not all click at the same instant
                await asyncio.sleep(self.rng.uniform(0, self.think_mean_s))
            while time.monotonic() < stop_at:
                route = self.rng.choices(self.routes, self.weights)[0]
                path, params, headers = self._request(route, etag)
                t0 = time.perf_counter()
                r: Answer | None
                try:
                    r = await asyncio.wait_for(conn.get(path, params, headers), timeout=120.0)
                    status = r.status
                except TRANSPORT_ERRORS:
                    status, r = NO_STATUS, None
                ms = (time.perf_counter() - t0) * 1000
                age = None
                if r is not None and route == "grid_state" and r.status in (200, 304):
                    etag["url"], etag["etag"] = str(params), r.headers.get("etag", "")
                    if r.status == 200:  # the diff applied: the next request asks for changes since it
                        etag["version"] = r.headers.get("x-state-version", etag.get("version", ""))
                if r is not None and route == "analytics":
                    as_of = r.headers.get("x-data-as-of", "none")
                    if as_of != "none":
                        age = (datetime.now(UTC) - datetime.fromisoformat(as_of)).total_seconds()
                self.samples.append(Sample(route, ms, status, age))
                await self._think()
        finally:
            await conn.close()

    async def run(self, duration_s: float) -> float:
        stop_at = time.monotonic() + duration_s
        t0 = time.monotonic()
        await asyncio.gather(*(self._client(stop_at) for _ in range(self.n)))
        return time.monotonic() - t0
