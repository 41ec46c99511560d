"""A loopback stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that records every call and
answers the way Slack does (`{"ok": true, …}`, or `{"ok": false, "error": …}`).

Point `MEDIC_SLACK_API_URL` at `stub.api_url`. It keeps the messages it was sent (and their edits),
refuses Block Kit payloads Slack would refuse (checked with slack_sdk's own block models and the
block counts), takes files.uploadV2's three steps, records what is sent to response URLs
(`stub.response_url(…)`), and can be made unreachable (`pause`) and reachable again (`resume`).
Used by the Slack tests and by `medic bench slack`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from pydantic import JsonValue
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

JSON_KEYS = ("blocks", "view", "files", "attachments")


@dataclass
class StubCall:
    method: str  # a Web API method, "upload" or "response"
    args: dict[str, JsonValue]
    path: str = ""


@dataclass
class StubMessage:
    channel: str
    ts: str
    text: str
    blocks: list[JsonValue]
    thread_ts: str | None = None
    edits: int = 0


@dataclass
class SlackStub:
    token: str
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # method → the error Slack answers it with
    calls: list[StubCall] = field(default_factory=list)
    messages: dict[tuple[str, str], StubMessage] = field(default_factory=dict)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: set[socket.socket] = field(default_factory=set)
    _seq: int = 0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Slack's API does

            def setup(self) -> None:
                super().setup()
                with stub._lock:
                    stub._open.add(self.connection)

            def finish(self) -> None:
                with stub._lock:
                    stub._open.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:  # some methods (usergroups.users.list) are sent as GET
                path, _, query = self.path.partition("?")
                if path == "/stats":  # for a stub in another process: how many calls of each method
                    self._send(200, stub.counts())
                    return
                form = {**dict(self.headers), "Content-Type": "application/x-www-form-urlencoded"}
                self._send(*stub.answer(path, form, query.encode()))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._send(*stub.answer(self.path, dict(self.headers), self.rfile.read(length)))

            def _send(self, status: int, body: dict[str, JsonValue] | bytes) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        threading.Thread(target=server.serve_forever, name="slack-stub", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:  # kept-alive connections too: nothing answers any more
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def pause(self) -> None:
        """Slack unreachable: the port refuses connections until `resume`."""
        self.stop()

    def resume(self) -> None:
        self.start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.root}/respond/{name}"

    # -- what tests read -------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[StubCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def counts(self) -> dict[str, JsonValue]:
        with self._lock:
            methods = [c.method for c in self.calls]
        return {m: methods.count(m) for m in set(methods)}

    def wait_for(
        self, check: Callable[[], object], timeout_s: float = 30.0, what: str = "the stub"
    ) -> object:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls][-30:]}")

    # -- answering -------------------------------------------------------------------------------
    def answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, JsonValue] | bytes]:
        if path.startswith("/upload/"):
            self._record(StubCall("upload", {"bytes": len(raw)}, path))
            return 200, f"OK - {len(raw)}".encode()
        if path.startswith("/respond/"):
            self._record(StubCall("response", _parse(raw, headers), path))
            return 200, b"ok"
        if not path.startswith("/api/"):
            return 404, {"ok": False, "error": "not_found"}
        method, _, query = path.removeprefix("/api/").partition("?")
        args = {**dict(parse_qsl(query)), **_parse(raw, headers)}  # slack_sdk sends some arguments as a query
        self._record(StubCall(method, args, path))
        if headers.get("Authorization", headers.get("authorization")) != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if method in self.errors:
            return 200, {"ok": False, "error": self.errors[method]}
        return 200, self._method(method, args)

    def _record(self, call: StubCall) -> None:
        with self._lock:
            self.calls.append(call)

    def _ts(self) -> str:
        with self._lock:
            self._seq += 1
            return f"{int(time.time())}.{self._seq:06d}"

    def _method(self, method: str, args: dict[str, JsonValue]) -> dict[str, JsonValue]:
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problem = invalid_blocks(args.get("blocks"), 50)
            if problem:
                return {"ok": False, "error": "invalid_blocks", "detail": problem}
            if not args.get("text") and not args.get("blocks"):
                return {"ok": False, "error": "no_text"}
        if method == "chat.postMessage":
            ts = self._ts()
            thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
            message = StubMessage(
                channel, ts, str(args.get("text") or ""), _list(args.get("blocks")), thread_ts
            )
            with self._lock:
                self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.update":
            key = (channel, str(args.get("ts")))
            with self._lock:
                if key not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                message = self.messages[key]
                message.text, message.blocks = str(args.get("text") or ""), _list(args.get("blocks"))
                message.edits += 1
            return {"ok": True, "channel": channel, "ts": key[1]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._ts()}
        if method == "views.publish":
            view = args.get("view")
            problem = invalid_blocks(view.get("blocks") if isinstance(view, dict) else None, 100)
            return (
                {"ok": False, "error": "invalid_blocks", "detail": problem}
                if problem
                else {"ok": True, "view": view}
            )
        if method == "usergroups.users.list":
            group = str(args.get("usergroup"))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.usergroups[group])}
        if method == "files.getUploadURLExternal":
            file_id = f"F{self._ts().replace('.', '')}"
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = _list(args.get("files"))
            return {
                "ok": True,
                "files": [
                    {**f, "permalink": f"{self.root}/files/{f.get('id')}"}
                    for f in files
                    if isinstance(f, dict)
                ],
            }
        if method == "auth.test":
            return {"ok": True, "user_id": "UMEDIC", "team_id": "T0001", "bot_id": "BMEDIC"}
        return {"ok": False, "error": "unknown_method"}


def invalid_blocks(blocks: JsonValue, most: int) -> str | None:
    """What Slack would refuse in these blocks, by slack_sdk's models of Slack's documented limits."""
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return "blocks is not a list"
    if len(blocks) > most:
        return f"{len(blocks)} blocks; at most {most}"
    for n, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)  # type: ignore[arg-type]
            if parsed is None:
                return f"blocks[{n}]: not a block"
            parsed.to_dict()  # runs the models' validators (text lengths, element counts)
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            return f"blocks[{n}]: {exc}"
    return None


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _parse(raw: bytes, headers: dict[str, str]) -> dict[str, JsonValue]:
    kind = headers.get("Content-Type", headers.get("content-type", ""))
    if "json" in kind:
        loaded = json.loads(raw or b"{}")
        return loaded if isinstance(loaded, dict) else {}
    args: dict[str, JsonValue] = dict(parse_qsl(raw.decode(errors="replace")))
    for key in JSON_KEYS:
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):  # not JSON: kept as the text it is
                args[key] = json.loads(str(args[key]))
    return args


def main() -> None:
    """Run the stub as its own process (`medic bench slack` does, so it does not share the load
    generator's interpreter): prints its API URL, serves until stdin closes."""
    import sys

    stub = SlackStub(token=sys.argv[1]).start()
    print(stub.api_url, flush=True)
    sys.stdin.read()
    stub.stop()


if __name__ == "__main__":
    main()
