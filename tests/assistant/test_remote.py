"""The model brain over real HTTP: a scripted OpenAI-compatible server (http.server in a thread) plays
the model; the engine runs the tools it asks for. Streaming and plain answers, tool-call argument
deltas, retries on 5xx/429, no retry on 4xx, the key sent only as a bearer header and never shown."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from assistant_events import answer_of

from fluxops.assistant.engine import Assistant
from fluxops.assistant.remote import ModelError, OpenAICompatibleBrain, brain_from_settings
from fluxops.assistant.tools import ToolContext

SECRET = "sk-test-very-secret-123"


class FakeModel:
    """Replies in order; each reply is (status, body) with body a dict (plain JSON) or a list of
    stream chunks (sent as server-sent events)."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def fake() -> Iterator[tuple[FakeModel, str]]:
    model = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length", "0"))
            model.requests.append(json.loads(self.rfile.read(n)))
            model.headers.append(dict(self.headers))
            status, body = model.replies.pop(0)
            if isinstance(body, list):
                self.send_response(status)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in body:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield model, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _tool_chunks(name: str, args: str) -> list[dict[str, Any]]:
    half = len(args) // 2
    return [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": name, "arguments": args[:half]},
                            }
                        ],
                    },
                }
            ]
        },
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": args[half:]}}]}}
            ]
        },
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]


def _text_chunks(text: str) -> list[dict[str, Any]]:
    return [
        {"choices": [{"index": 0, "delta": {"content": text[:10]}}]},
        {"choices": [{"index": 0, "delta": {"content": text[10:]}}]},
    ]


def test_streamed_tool_call_then_answer(fake: tuple[FakeModel, str], ctx: ToolContext) -> None:
    model, url = fake
    n = int((ctx.grid.transformers.feeder_id == "FDR-0001-01").sum())
    model.replies = [
        (
            200,
            _tool_chunks(
                "find_assets",
                json.dumps(
                    {
                        "query": None,
                        "asset_type": "transformer",
                        "feeder_id": "FDR-0001-01",
                        "substation_id": None,
                        "bbox": None,
                        "limit": 1,
                    }
                ),
            ),
        ),
        (200, _text_chunks(f"Feeder FDR-0001-01 has {n} transformers.")),
    ]
    brain = OpenAICompatibleBrain(url, "test-model", api_key=SECRET, timeout_s=5)
    events = list(Assistant(brain, ctx, role="viewer").run("how many transformers on FDR-0001-01?"))
    ans = answer_of(events)
    assert ans["text"] == f"Feeder FDR-0001-01 has {n} transformers."
    assert [e["event"] for e in events].count("delta") == 2
    call = ans["evidence"]["tool_calls"][0]
    assert call["name"] == "find_assets" and call["status"] == "ok" and call["result"]["data"]["total"] == n
    assert ans["evidence"]["ungrounded_numbers"] == []
    first, second = model.requests
    assert (
        first["model"] == "test-model" and first["stream"] is True and first["parallel_tool_calls"] is False
    )
    names = {t["function"]["name"] for t in first["tools"]}
    assert "find_assets" in names and "run_cascade" not in names  # viewer: no operator tools offered
    assert all(t["function"]["strict"] for t in first["tools"])
    assert second["messages"][-2]["tool_calls"][0]["id"] == "call_1"
    assert second["messages"][-1]["role"] == "tool" and second["messages"][-1]["tool_call_id"] == "call_1"
    assert model.headers[0]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in json.dumps(events)


def test_history_is_bounded(fake: tuple[FakeModel, str], ctx: ToolContext) -> None:
    model, url = fake
    model.replies = [(200, {"choices": [{"message": {"role": "assistant", "content": "ok"}}]})]
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(50)]
    brain = OpenAICompatibleBrain(url, "m", stream=False, timeout_s=5)
    list(Assistant(brain, ctx, role="viewer").run("now", history))
    sent = model.requests[0]["messages"]
    assert sent[0]["role"] == "system" and sent[-1]["content"] == "now"
    assert [m["content"] for m in sent[1:-1]] == [f"m{i}" for i in range(30, 50)]


def test_unsupported_number_is_flagged(fake: tuple[FakeModel, str], ctx: ToolContext) -> None:
    model, url = fake
    model.replies = [
        (200, {"choices": [{"message": {"role": "assistant", "content": "There are 4242 meters."}}]})
    ]
    brain = OpenAICompatibleBrain(url, "m", stream=False, timeout_s=5)
    ans = answer_of(list(Assistant(brain, ctx, role="viewer").run("how many meters?")))
    assert ans["evidence"]["ungrounded_numbers"] == ["4242"]


def test_invalid_tool_arguments_go_back_to_the_model(fake: tuple[FakeModel, str], ctx: ToolContext) -> None:
    model, url = fake
    model.replies = [
        (
            200,
            {
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "tool_calls": [
                                {
                                    "id": "c9",
                                    "type": "function",
                                    "function": {"name": "asset_detail", "arguments": '{"asset_id": 7}'},
                                }
                            ],
                        }
                    }
                ]
            },
        ),
        (200, {"choices": [{"message": {"role": "assistant", "content": "I could not look that up."}}]}),
    ]
    brain = OpenAICompatibleBrain(url, "m", stream=False, timeout_s=5)
    ans = answer_of(list(Assistant(brain, ctx, role="viewer").run("detail of 7")))
    assert ans["evidence"]["tool_calls"][0]["status"] == "error"
    tool_msg = model.requests[1]["messages"][-1]
    assert json.loads(tool_msg["content"])["field"] == "asset_id"


def test_retries_on_5xx_and_429(fake: tuple[FakeModel, str], ctx: ToolContext) -> None:
    model, url = fake
    model.replies = [
        (503, {"error": "busy"}),
        (429, {"error": "slow down"}),
        (200, {"choices": [{"message": {"role": "assistant", "content": "ok"}}]}),
    ]
    brain = OpenAICompatibleBrain(url, "m", stream=False, timeout_s=5, max_retries=2, backoff_s=0.01)
    assert answer_of(list(Assistant(brain, ctx, role="viewer").run("hi")))["text"] == "ok"
    assert len(model.requests) == 3


def test_client_errors_are_not_retried_and_hide_the_key(
    fake: tuple[FakeModel, str], ctx: ToolContext
) -> None:
    model, url = fake
    model.replies = [(401, {"error": f"bad key {SECRET}"})]
    brain = OpenAICompatibleBrain(url, "m", api_key=SECRET, stream=False, timeout_s=5, backoff_s=0.01)
    with pytest.raises(ModelError) as err:
        list(Assistant(brain, ctx, role="viewer").run("hi"))
    assert "HTTP 401" in err.value.message and SECRET not in err.value.message
    assert len(model.requests) == 1
    assert SECRET not in repr(brain)


def test_unreachable_endpoint_fails_after_retries(ctx: ToolContext) -> None:
    brain = OpenAICompatibleBrain("http://127.0.0.1:9/v1", "m", timeout_s=1, max_retries=1, backoff_s=0.01)
    with pytest.raises(ModelError, match="after 2 attempts"):
        list(Assistant(brain, ctx, role="viewer").run("hi"))


def test_offline_without_configuration() -> None:
    assert brain_from_settings(None, None, None).name == "offline"
    assert brain_from_settings("http://x/v1", None, None).name == "offline"
    assert brain_from_settings("http://x/v1", "m", "k").name == "openai-compatible:m"
