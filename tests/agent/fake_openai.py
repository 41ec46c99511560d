"""A scripted OpenAI-compatible server on 127.0.0.1, over real HTTP, for testing the OpenAI planner.

`POST /v1/chat/completions` answers with the next scripted `Reply`, as one JSON body or, when the
request says `stream: true`, as server-sent events: `data: {chunk}` lines whose `choices[0].delta`
carries content pieces and tool-call pieces (the arguments of parallel calls cut up and interleaved,
keyed by `index`, as a strict client must handle), a usage chunk when `stream_options.include_usage`
asks for one, and `data: [DONE]`. A `Reply` with a `status` other than 200 answers with an OpenAI-style
error body (and `Retry-After` when given). Every request body is recorded, in order, in `requests`.
When the script is exhausted the server answers 400, so an extra request fails the test loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Body = dict[str, Any]  # JSON as received or sent: the tests index into it freely


@dataclass(frozen=True)
class Call:
    """A tool call the scripted model makes; `arguments` is the raw string (may be broken JSON)."""

    name: str
    arguments: str
    id: str


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    tool_calls: tuple[Call, ...] = ()
    prompt_tokens: int | None = 100  # None: no `usage` in the response
    completion_tokens: int = 20
    status: int = 200
    retry_after: str | None = None
    delay_s: float = 0.0  # answer this late (to exercise client timeouts)


def text(content: str, *, prompt_tokens: int | None = 100) -> Reply:
    """A plain answer; `prompt_tokens=None` leaves `usage` out of the response."""
    return Reply(content=content, prompt_tokens=prompt_tokens)


def calls(*specs: tuple[str, Mapping[str, object] | str], prefix: str = "call") -> Reply:
    """Parallel tool calls; a `str` argument is sent verbatim (to script malformed JSON)."""
    made = tuple(
        Call(name, args if isinstance(args, str) else json.dumps(args), f"{prefix}_{n}")
        for n, (name, args) in enumerate(specs)
    )
    return Reply(tool_calls=made)


def failure(status: int, retry_after: str | None = None) -> Reply:
    return Reply(status=status, retry_after=retry_after)


def late(seconds: float) -> Reply:
    """A reply that arrives after the client gave up (its content is never read)."""
    return Reply(content="too late", delay_s=seconds)


@dataclass
class FakeOpenAI:
    """Start with `with FakeOpenAI([...]) as fake:`; point the client at `fake.base_url`."""

    script: Iterable[Reply]
    requests: list[Body] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    unscripted: int = 0

    def __post_init__(self) -> None:
        self._queue: deque[Reply] = deque(self.script)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, body: Body, authorization: str) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            if not self._queue:
                self.unscripted += 1
                return None
            return self._queue.popleft()


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the socket closes

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            reply = fake._next(body, self.headers.get("Authorization", ""))
            if reply is not None and reply.delay_s:
                time.sleep(reply.delay_s)
            if reply is None:
                self._json(
                    400, {"error": {"message": "fake: script exhausted", "type": "invalid_request_error"}}
                )
            elif reply.status != 200:
                error = {"message": f"fake: scripted {reply.status}", "type": "server_error"}
                extra = {"Retry-After": reply.retry_after} if reply.retry_after else {}
                self._json(reply.status, {"error": error}, extra)
            elif body.get("stream"):
                self._stream(reply, body)
            else:
                self._json(200, _completion(reply, str(body.get("model"))))

        def _json(self, status: int, payload: Body, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, reply: Reply, body: Body) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            options = body.get("stream_options")
            with_usage = isinstance(options, dict) and options.get("include_usage") is True
            for chunk in _chunks(reply, str(body.get("model")), with_usage):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.001)  # separate TCP writes: the client really assembles pieces
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


def _usage(reply: Reply) -> Body | None:
    if reply.prompt_tokens is None:
        return None
    total = reply.prompt_tokens + reply.completion_tokens
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": total,
    }


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _completion(reply: Reply, model: str) -> Body:
    message: Body = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    body: Body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply)}],
    }
    usage = _usage(reply)
    if usage is not None:
        body["usage"] = usage
    return body


def _chunks(reply: Reply, model: str, with_usage: bool) -> Iterator[Body]:
    def chunk(delta: Body, finish: str | None = None) -> Body:
        choice: Body = {"index": 0, "delta": delta, "finish_reason": finish}
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [choice],
        }

    yield chunk({"role": "assistant", "content": ""})
    content = reply.content or ""
    for start in range(0, len(content), 7):
        yield chunk({"content": content[start : start + 7]})
    for index, call in enumerate(reply.tool_calls):
        head = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
    pieces = [[c.arguments[i : i + 5] for i in range(0, len(c.arguments), 5)] for c in reply.tool_calls]
    for position in range(max((len(p) for p in pieces), default=0)):  # interleave the parallel calls
        for index, parts in enumerate(pieces):
            if position < len(parts):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": parts[position]}}]})
    yield chunk({}, _finish(reply))
    usage = _usage(reply)
    if with_usage and usage is not None:
        yield {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [],
            "usage": usage,
        }
