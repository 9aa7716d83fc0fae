"""Socket Mode end to end: a local WebSocket server plays Slack's side.

`apps.connections.open` on the stand-in returns the server's ws:// URL; the server says hello, sends
`events_api` envelopes, and checks the app acks each envelope id and answers: the streamed reply to a
mention, and the agent-view greeting with prompts when the Messages tab is opened.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from slack_events import event_envelope, mention
from slack_standin import APP_TOKEN, BOT_USER, INTERNAL_CHANNEL, STAFF_DM, STAFF_USER

ANSWERABLE = "When was the GCOT joint statement of intent published?"


class FakeSlackSocket:
    """The Slack end of a Socket Mode connection: sends envelopes, collects what the app sends back."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict] = queue.Queue()
        self.connected = threading.Event()
        self.connection: ServerConnection | None = None
        self.paths: list[str] = []
        self.server = serve(self._handler, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-slack-ws").start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link/?ticket=test-ticket"

    def _handler(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        self.connection = connection
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "AAPP00001"},
                                    "debug_info": {"host": "local-standin", "approximate_connection_time": 3600}}))
        self.connected.set()
        for raw in connection:
            self.received.put(json.loads(raw))

    def send_envelope(self, envelope_id: str, payload: dict, *, retry_attempt: int = 0) -> float:
        assert self.connection is not None
        self.connection.send(json.dumps({"envelope_id": envelope_id, "type": "events_api", "payload": payload,
                                         "accepts_response_payload": False, "retry_attempt": retry_attempt,
                                         "retry_reason": "timeout" if retry_attempt else ""}))
        return time.monotonic()

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            message = self.received.get(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("envelope_id") == envelope_id:
                return time.monotonic()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def socket_app(make_slack_settings, standin, answer_service) -> Iterator[tuple]:
    from bot.slack.socket_mode import build_socket_mode_handler

    fake = FakeSlackSocket()
    standin.ws_url = fake.url
    handler = build_socket_mode_handler(make_slack_settings(), answer_service)
    handler.connect()
    assert fake.connected.wait(10), "the app never opened the WebSocket"
    yield handler, fake
    handler.close()
    fake.close()


def test_socket_mode_acks_the_envelope_and_replies_in_thread(socket_app, standin):
    handler, fake = socket_app
    opened = standin.calls_to("apps.connections.open")
    assert opened and opened[0].token == APP_TOKEN and fake.paths[0].startswith("/link/")
    standin.reset()
    ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> {ANSWERABLE}")
    payload = event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE, ts))
    sent = fake.send_envelope("env-0001", payload)
    acked = fake.wait_ack("env-0001")
    assert acked - sent < 1.0
    reply = standin.replies(INTERNAL_CHANNEL, ts)[0]
    assert "5 October 2023" in reply.text and reply.blocks[-1]["type"] == "context_actions"
    assert any(card.get("sources") for card in reply.chunks if card["type"] == "task_update")

    # Slack re-delivers the same event after a timeout: acked again, not answered again.
    fake.send_envelope("env-0002", payload, retry_attempt=1)
    fake.wait_ack("env-0002")
    time.sleep(1.0)
    assert len(standin.calls_to("chat.startStream")) == 1 and standin.calls_to("chat.postMessage") == []


def test_socket_mode_messages_tab_greets_with_prompts(socket_app, standin):
    _, fake = socket_app
    standin.reset()
    event = {"type": "app_home_opened", "user": STAFF_USER, "channel": STAFF_DM, "tab": "messages", "event_ts": "1.0"}
    fake.send_envelope("env-0003", event_envelope(event))
    fake.wait_ack("env-0003")
    prompts = standin.wait_for("assistant.threads.setSuggestedPrompts")[0].params
    greeting = standin.wait_for("chat.postMessage")[0].params
    assert prompts["channel_id"] == STAFF_DM and 3 <= len(prompts["prompts"]) <= 4
    assert greeting["channel"] == STAFF_DM and "Global Coalition" in greeting["text"]
