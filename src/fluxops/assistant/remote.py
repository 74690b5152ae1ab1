"""The model brain: any OpenAI-compatible chat-completions endpoint with tool calling (OpenAI, vLLM with
``--enable-auto-tool-choice``, llama.cpp ``--jinja``, Ollama's ``/v1``).

Standard library HTTP (urllib): streaming (``stream: true``; text deltas and tool-call argument deltas
are assembled), a timeout per request, retries with doubling backoff on connection errors, 408, 429 and
5xx (honouring ``Retry-After``), ``parallel_tool_calls: false`` (strict tool schemas). The API key goes
in the ``Authorization`` header only; error messages quote the endpoint without it and never the key.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from fluxops.assistant.engine import BrainReply, ToolCallRequest
from fluxops.core.errors import CapabilityError

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 8.0


class ModelError(CapabilityError):
    """The model endpoint failed (after retries) or answered something that is not a chat completion."""


class OpenAICompatibleBrain:
    name = "openai-compatible"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        stream: bool = True,
        temperature: float = 0.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.stream = stream
        self.temperature = temperature
        self.name = f"openai-compatible:{model}"

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatibleBrain(url={self.url!r}, model={self.model!r})"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _open(self, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if self.stream else "application/json",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        last: str = ""
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            wait = min(self.backoff_s * 2**attempt, MAX_BACKOFF_S)
            try:
                return urllib.request.urlopen(req, timeout=self.timeout_s)
            except urllib.error.HTTPError as exc:
                detail = self._redact(exc.read(2000).decode("utf-8", "replace"))
                last = f"HTTP {exc.code} from {self.url}: {detail}"
                if exc.code not in RETRY_STATUSES:
                    raise ModelError(last, details={"status": exc.code}) from None
                ra = exc.headers.get("Retry-After") if exc.headers else None
                if ra and ra.isdigit():
                    wait = min(float(ra), MAX_BACKOFF_S)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"cannot reach {self.url}: {self._redact(str(getattr(exc, 'reason', exc)))}"
            log.warning("model call failed (attempt %d of %d): %s", attempt + 1, self.max_retries + 1, last)
            if attempt < self.max_retries:
                time.sleep(wait)
        raise ModelError(f"the model endpoint failed after {self.max_retries + 1} attempts: {last}")

    def reply(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
    ) -> BrainReply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "stream": self.stream,
        }
        if tools:
            body.update(tools=tools, tool_choice="auto", parallel_tool_calls=False)
        resp = self._open(body)
        try:
            if self.stream:
                return _assemble(_sse(resp, self.timeout_s), on_delta)
            payload = json.loads(resp.read().decode())
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"not a chat completion from {self.url}: {exc}") from None
        finally:
            resp.close()
        return _message(payload)


def _sse(resp: Any, timeout_s: float) -> Iterator[dict[str, Any]]:
    """The JSON chunks of a server-sent-event stream, until ``data: [DONE]``."""
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def _assemble(chunks: Iterator[dict[str, Any]], on_delta: Callable[[str], None] | None) -> BrainReply:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        if "error" in chunk:
            raise ModelError(f"the model reported an error: {chunk['error']}")
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
                if on_delta is not None:
                    on_delta(delta["content"])
            for tc in delta.get("tool_calls") or []:
                slot = calls.setdefault(int(tc.get("index", 0)), {"id": None, "name": "", "arguments": ""})
                if tc.get("id"):
                    slot["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot["name"] += fn["name"]
                if fn.get("arguments"):
                    slot["arguments"] += fn["arguments"]
    if calls:
        return BrainReply(
            tool_calls=[
                ToolCallRequest(c["id"] or f"call_{i}", c["name"], c["arguments"])
                for i, c in sorted(calls.items())
            ]
        )
    return BrainReply(text="".join(text))


def _message(payload: dict[str, Any]) -> BrainReply:
    msg = payload["choices"][0]["message"]
    calls = msg.get("tool_calls") or []
    if calls:
        return BrainReply(
            tool_calls=[
                ToolCallRequest(
                    c.get("id") or f"call_{i}", c["function"]["name"], c["function"].get("arguments") or "{}"
                )
                for i, c in enumerate(calls)
            ]
        )
    return BrainReply(text=msg.get("content") or "")


def brain_from_settings(
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    *,
    timeout_s: float = 60.0,
    max_retries: int = 2,
) -> Any:
    """The model brain when an endpoint and a model are configured, else the offline brain."""
    if base_url and model:
        return OpenAICompatibleBrain(
            base_url, model, api_key=api_key, timeout_s=timeout_s, max_retries=max_retries
        )
    from fluxops.assistant.offline import OfflineBrain

    return OfflineBrain()
