"""A local stand-in for an OpenAI-compatible chat server: a real HTTP server on 127.0.0.1.

It serves `POST /v1/chat/completions` in OpenAI's response format from a script of replies, one
reply per request, and records every request (body and headers) so tests can check what the
client really sent. A reply is one of:

- a string: the assistant message content;
- a callable `(request_body) -> str`: content built from the request (e.g. copy a source sentence);
- `Sleep(seconds)`: hold the connection that long before answering (a client timeout);
- `Fail(status)`: an HTTP error with OpenAI's error envelope.

    with OpenAIStandIn() as standin:
        standin.script("The answer [1].", Fail(500))
        settings = ...(llm_base_url=standin.base_url)
        ...
        standin.requests[0].body["messages"]
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union


@dataclass(frozen=True)
class Sleep:
    """Answer only after `seconds` (longer than the client's timeout makes it give up)."""

    seconds: float
    content: str = "too late [1]."


@dataclass(frozen=True)
class Fail:
    """Answer with HTTP `status` and an OpenAI-style error body."""

    status: int = 500
    message: str = "stand-in: scripted server error"


Reply = Union[str, Callable[[dict[str, Any]], str], Sleep, Fail]


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    """Lower-cased names."""
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def content(self, role: str) -> str:
        """All message text of `role` ("system", "user"), joined."""
        return "\n".join(_text(m.get("content")) for m in self.messages if m.get("role") == role)


@dataclass
class OpenAIStandIn:
    """Scripted OpenAI-compatible server. `script(...)` queues replies; an empty queue answers 500."""

    model: str = "standin"
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Failures of reply functions (bugs in a test's script, not scripted failures)."""
    _replies: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    # --- control -------------------------------------------------------------------------------

    def start(self) -> OpenAIStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                standin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="openai-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers still sleeping on a Sleep reply
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order, one per request."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.errors.clear()

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._replies)

    # --- serving -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        request = Request(path=handler.path, body=body, headers={k.lower(): v for k, v in handler.headers.items()}, at=time.time())
        with self._lock:
            self.requests.append(request)
            reply: Reply | None = self._replies.popleft() if self._replies else None

        if handler.path.rstrip("/") != "/v1/chat/completions":
            return _send(handler, 404, _error(f"stand-in: no route {handler.path}", "not_found"))
        if reply is None:
            return _send(handler, 500, _error("stand-in: no scripted reply left", "server_error"))
        if isinstance(reply, Fail):
            return _send(handler, reply.status, _error(reply.message, "server_error"))
        if isinstance(reply, Sleep):
            if self._stopping.wait(reply.seconds):
                return
            content = reply.content
        elif callable(reply):
            try:
                content = reply(body)
            except Exception as exc:  # a broken script is a test bug: record it, answer 500
                self.errors.append(f"{type(exc).__name__}: {exc}")
                return _send(handler, 500, _error(f"stand-in: reply function failed: {exc}", "server_error"))
        else:
            content = reply
        try:
            _send(handler, 200, self._completion(content, body))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): nothing to do
            pass

    def _completion(self, content: str, body: dict[str, Any]) -> dict[str, Any]:
        prompt_tokens = sum(len(_text(m.get("content")).split()) for m in body.get("messages") or [])
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-standin-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _text(content: Any) -> str:
    """Message content as text: OpenAI allows a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""
