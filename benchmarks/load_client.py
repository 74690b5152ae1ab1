"""A minimal HTTP/1.1 keep-alive client for `bench_load_api` (asyncio streams, uvloop when installed).

Why not httpx: at 64 clients the benchmark process itself, on the same two cores as the server, spent
about a millisecond of CPU per request in httpx (request building, header models, decompression), CPU the
server under test then lacked. This client sends one GET per round trip on its own connection and reads
the answer to its last byte (Content-Length or chunked), without decoding the body: the latency measured
is still request sent → whole answer read, and the server does the same work (gzip included: the client
sends ``Accept-Encoding: gzip`` like a browser).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlencode


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
