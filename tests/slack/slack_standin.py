"""A local stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that records every call.

It answers the methods the app uses the way Slack does (same envelope: `{"ok": true, ...}` or
`{"ok": false, "error": ...}`), keeps the messages posted (and streamed) so `conversations.replies`
returns real threads, checks Block Kit and stream limits as Slack does (`invalid_blocks`,
`msg_too_long`), and can be scripted to fail (`fail_next`) or to refuse streaming (`streaming_supported`).

    standin = SlackStandIn().start()
    settings = ...(slack_api_url=standin.api_url)
    ...
    calls = standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C1")
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs

TEAM = "THOME0001"
OTHER_TEAM = "TOTHER001"
BOT_USER = "UBOT00001"
BOT_ID = "BBOT00001"
BOT_TOKEN = "xoxb-test-token-never-logged"
APP_TOKEN = "xapp-test-token-never-logged"

STAFF_USER = "USTAFF001"
GUEST_USER = "UGUEST001"
EXTERNAL_USER = "UEXTERN01"
INTERNAL_CHANNEL = "CINTERNAL"
SHARED_CHANNEL = "CSHARED01"
OPTOUT_CHANNEL = "COPTOUT01"
ESCALATION_CHANNEL = "CESCALATE"
STAFF_DM = "DSTAFF001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    ok: bool = True

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    def all_text(self) -> str:
        """Every string this call would show in Slack (text, blocks, chunks), for leak checks."""
        return json.dumps({k: v for k, v in self.params.items() if k != "token"}, ensure_ascii=False)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    chunks: list[dict[str, Any]] | None = None
    """Every chunk streamed into the message (markdown_text, task_update, ...), in order."""
    metadata: dict[str, Any] | None = None
    streaming: bool = False


@dataclass
class SlackStandIn:
    """Configurable fake workspace. Channels and users can be edited before or during a test."""

    channels: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        INTERNAL_CHANNEL: {"is_channel": True, "is_ext_shared": False},
        OPTOUT_CHANNEL: {"is_channel": True, "is_ext_shared": False},
        ESCALATION_CHANNEL: {"is_channel": True, "is_ext_shared": False},
        SHARED_CHANNEL: {"is_channel": True, "is_ext_shared": True, "is_shared": True},
    })
    users: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        STAFF_USER: {"team_id": TEAM},
        GUEST_USER: {"team_id": TEAM, "is_restricted": True},
        EXTERNAL_USER: {"team_id": OTHER_TEAM},
        BOT_USER: {"team_id": TEAM, "is_bot": True},
    })
    members: dict[str, list[str]] = field(default_factory=dict)
    """Channel id -> member ids for `conversations.members`; a known channel not listed has the staff
    user and the bot as members (edit it to put a guest in a channel)."""
    streaming_supported: bool = True
    ws_url: str = "ws://127.0.0.1:1/"

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self._failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = {}
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.views: dict[str, dict[str, Any]] = {}

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                auth = self.headers.get("Authorization", "")
                status, headers, payload = standin._handle(self.path.rsplit("/", 1)[-1], raw,
                                                           self.headers.get("Content-Type", ""), auth)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="slack-standin").start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def api_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    # --- scripting and inspection ------------------------------------------------------------------
    def fail_next(self, method: str, *, status: int = 429, headers: dict[str, str] | None = None,
                  payload: dict[str, Any] | None = None) -> None:
        """Make the next call of `method` fail once (default: 429 with Retry-After: 1)."""
        default_headers = {"Retry-After": "1"} if status == 429 else {}
        default_payload = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
        self._failures.setdefault(method, []).append((status, headers or default_headers, payload or default_payload))

    def add_user_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A message a person posted (so `conversations.replies` sees it); returns its ts."""
        ts = self._next_ts()
        with self._cond:
            self.messages.append(Message(channel, ts, text, user=user, thread_ts=thread_ts))
        return ts

    def calls_to(self, method: str, predicate: Callable[[Call], bool] | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and c.status == 200 and c.ok
                    and (predicate is None or predicate(c))]

    def wait_for(self, method: str, predicate: Callable[[Call], bool] | None = None, *, count: int = 1,
                 timeout: float = 15.0) -> list[Call]:
        """Block until `count` successful calls of `method` match; raise AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and c.status == 200 and c.ok
                         and (predicate is None or predicate(c))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"timed out waiting for {count} x {method}; calls so far: {seen}")
                self._cond.wait(remaining)

    def replies(self, channel: str, thread_ts: str | None, *, count: int = 1, timeout: float = 15.0) -> list[Message]:
        """Wait until `count` bot messages in the thread are complete (posted, or streamed and stopped)."""
        def done() -> list[Message]:
            return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts
                    and m.bot_id == BOT_ID and not m.streaming]

        deadline = time.monotonic() + timeout
        with self._cond:
            while len(done()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {count} replies; calls so far: "
                                         f"{[c.method for c in self.calls]}")
                self._cond.wait(remaining)
            return sorted(done(), key=lambda m: float(m.ts))

    def _members_of(self, channel: str) -> list[str]:
        with self._cond:
            return list(self.members.get(channel, [STAFF_USER, BOT_USER]))

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self.messages.clear()
            self._failures.clear()
            self.views.clear()

    # --- the fake API ------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _handle(self, method: str, raw: str, content_type: str, auth: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        params: dict[str, Any]
        if "json" in content_type and raw:
            params = json.loads(raw)
        else:
            params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        token = auth.removeprefix("Bearer ") or params.get("token")
        with self._cond:
            failures = self._failures.get(method)
            if failures:
                status, headers, payload = failures.pop(0)
                self.calls.append(Call(method, params, token, time.monotonic(), status=status,
                                       ok=bool(payload.get("ok"))))
                self._cond.notify_all()
                return status, headers, payload
        payload = self._answer(method, params)
        with self._cond:
            self.calls.append(Call(method, params, token, time.monotonic(), ok=bool(payload.get("ok"))))
            self._cond.notify_all()
        return 200, {}, payload

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return {**ok, "url": "https://home.example.slack.com/", "team": "Home", "user": "gcot",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "apps.connections.open":
            return {**ok, "url": self.ws_url}
        if method == "conversations.info":
            channel = p.get("channel", "")
            if channel.startswith("D"):
                return {**ok, "channel": {"id": channel, "is_im": True, "user": STAFF_USER}}
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            info = {"id": channel, "name": channel.lower(), **self.channels[channel]}
            if str(p.get("include_num_members")).lower() in ("true", "1"):
                info.setdefault("num_members", len(self._members_of(channel)))
            return {**ok, "channel": info}
        if method == "conversations.members":  # paginated like Slack: limit + next_cursor (an offset here)
            channel = p.get("channel", "")
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            everyone = self._members_of(channel)
            start, limit = int(p.get("cursor") or 0), int(p.get("limit") or 100)
            rest = everyone[start + limit:]
            return {**ok, "members": everyone[start:start + limit],
                    "response_metadata": {"next_cursor": str(start + limit) if rest else ""}}
        if method == "users.info":
            user = p.get("user", "")
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {**ok, "user": {"id": user, "name": user.lower(), "is_restricted": False,
                                   "is_ultra_restricted": False, **self.users[user]}}
        if method == "conversations.replies":
            channel, ts = p.get("channel"), p.get("ts")
            with self._cond:
                thread = [m for m in self.messages if m.channel == channel and (m.ts == ts or m.thread_ts == ts)]
            thread.sort(key=lambda m: float(m.ts))
            return {**ok, "messages": [_wire(m, p) for m in thread], "has_more": False}
        if method == "conversations.history":  # top-level messages after `oldest`, newest first, like Slack
            channel, oldest = p.get("channel"), float(p.get("oldest") or 0)
            with self._cond:
                top = [m for m in self.messages if m.channel == channel and m.thread_ts in (None, m.ts)
                       and float(m.ts) > oldest]
            top.sort(key=lambda m: float(m.ts), reverse=True)
            return {**ok, "messages": [_wire(m, p) for m in top[: int(p.get("limit") or 100)]], "has_more": False}
        if method in ("chat.postMessage", "chat.startStream"):
            return self._post(method, p)
        if method in ("chat.appendStream", "chat.stopStream"):
            return self._append(method, p)
        if method == "chat.update":
            error = _block_errors(_loads(p.get("blocks")))
            if error:
                return {"ok": False, "error": error}
            with self._cond:
                for message in self.messages:
                    if message.ts == p.get("ts"):
                        message.text, message.blocks, message.streaming = p.get("text") or "", _loads(p.get("blocks")), False
                        message.metadata = _loads(p.get("metadata")) or message.metadata
            return {**ok, "channel": p.get("channel"), "ts": p.get("ts")}
        if method == "views.publish":
            view = _loads(p.get("view")) or {}
            error = _block_errors(view.get("blocks"), limit=100)
            if error:
                return {"ok": False, "error": error}
            self.views[p.get("user_id", "")] = view
            return {**ok, "view": {"id": "V0001", **view}}
        if method == "chat.postEphemeral":
            return {**ok, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            ts = str(p.get("message_ts", "")).replace(".", "")
            return {**ok, "channel": p.get("channel"), "permalink": f"https://home.example.slack.com/archives/{p.get('channel')}/p{ts}"}
        if method.startswith("assistant.threads."):
            return ok
        return {"ok": False, "error": "unknown_method"}


    def _post(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.startStream":
            if not self.streaming_supported:
                return {"ok": False, "error": "unknown_method"}
            if not p["channel"].startswith("D") and not (p.get("recipient_user_id") and p.get("recipient_team_id")):
                return {"ok": False, "error": "invalid_arguments"}  # required when streaming to channels
            if not p.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
        chunks = _stream_chunks(p)
        error = _block_errors(_loads(p.get("blocks"))) or _chunk_errors(chunks)
        if error:
            return {"ok": False, "error": error}
        ts = self._next_ts()
        streaming = method == "chat.startStream"
        text = _chunk_text(chunks) if streaming else (p.get("text") or "")
        with self._cond:
            self.messages.append(Message(p["channel"], ts, text, user=BOT_USER, bot_id=BOT_ID,
                                         thread_ts=p.get("thread_ts"), blocks=_loads(p.get("blocks")),
                                         chunks=chunks if streaming else None, streaming=streaming,
                                         metadata=None if streaming else _loads(p.get("metadata"))))
        return {"ok": True, "channel": p["channel"], "ts": ts, "message": {"text": text, "ts": ts}}

    def _append(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        chunks = _stream_chunks(p)
        error = _chunk_errors(chunks) or (_block_errors(_loads(p.get("blocks"))) if method == "chat.stopStream" else None)
        if error:
            return {"ok": False, "error": error}
        with self._cond:
            message = next((m for m in self.messages if m.ts == p.get("ts")), None)
            if message is None or not message.streaming:
                return {"ok": False, "error": "message_not_in_streaming_state"}
            message.chunks = (message.chunks or []) + chunks
            message.text += _chunk_text(chunks)
            if method == "chat.stopStream":
                message.streaming = False
                message.blocks = _loads(p.get("blocks"))
                message.metadata = _loads(p.get("metadata"))
        return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}


MARKDOWN_LIMIT = 12_000
SECTION_LIMIT = 3000


def _wire(message: Message, p: dict[str, Any]) -> dict[str, Any]:
    """A message as the Web API returns it: metadata only when the call asked for `include_all_metadata`."""
    shown = {k: v for k, v in vars(message).items() if v is not None}
    if str(p.get("include_all_metadata")).lower() not in ("true", "1"):
        shown.pop("metadata", None)
    return shown


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _stream_chunks(p: dict[str, Any]) -> list[dict[str, Any]]:
    chunks = list(_loads(p.get("chunks")) or [])
    if p.get("markdown_text"):
        chunks.insert(0, {"type": "markdown_text", "text": p["markdown_text"]})
    return chunks


def _chunk_errors(chunks: list[dict[str, Any]]) -> str | None:
    for chunk in chunks:
        if chunk.get("type") == "markdown_text" and len(chunk.get("text", "")) > MARKDOWN_LIMIT:
            return "msg_too_long"
        if chunk.get("type") == "task_update":
            if not chunk.get("id") or not chunk.get("title") or chunk.get("status") not in (
                    "pending", "in_progress", "complete", "error"):
                return "invalid_chunks"
            if any(s.get("type") != "url" or not str(s.get("url", "")).startswith(("http://", "https://"))
                   or " " in s["url"] for s in chunk.get("sources") or []):
                return "invalid_chunks"
    return None


def _block_errors(blocks: list[dict[str, Any]] | None, *, limit: int = 50) -> str | None:
    """Slack's `invalid_blocks` for the limits replies can hit: block count and section text length."""
    if not blocks:
        return None
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and not 0 < len(text) <= SECTION_LIMIT:
            return "invalid_blocks"
        if block.get("type") == "context_actions" and not 0 < len(block.get("elements") or []) <= 5:
            return "invalid_blocks"
    return None


def _chunk_text(chunks: Any) -> str:
    chunks = _loads(chunks)
    return "".join(c.get("text", "") for c in chunks or [] if isinstance(c, dict) and c.get("type") == "markdown_text")
