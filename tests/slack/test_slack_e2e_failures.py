"""Never a silent failure: whatever fails after the "searching" status is shown, the asker gets the
answer another way or an apology with a reference id.

Failing Chroma: the app runs over a copy of the index whose Chroma collection has been deleted, so
every question fails inside retrieval. Failing answerer: the real service's answer replaced by an
error. Failing Slack: the stand-in refuses or breaks the stream, or rejects the post."""

from __future__ import annotations

import logging
import re
import shutil
import time

import pytest

from slack_events import assistant_thread_started, event_envelope, mention, post_event
from slack_standin import BOT_USER, INTERNAL_CHANNEL, STAFF_DM, STAFF_USER

QUESTION = "When was the GCOT joint statement of intent published?"
APOLOGY = re.compile(r"^Sorry.*Reference: `([0-9a-f]{8})`")


def ask(app, standin, text: str = QUESTION) -> str:
    ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> {text}")
    assert post_event(app.http, app.events_url, event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, text, ts))
                      ).status_code == 200
    return ts


def status_then_reply(standin, ts: str):
    """The one reply in the thread, after checking the status was shown first."""
    reply = standin.replies(INTERNAL_CHANNEL, ts)[0]
    status = standin.calls_to("assistant.threads.setStatus", lambda c: c.params["thread_ts"] == ts)
    assert status and status[0].at < max(c.at for c in standin.calls if c.method.startswith("chat."))
    return reply


class FailingTopics:
    """The real service, except that listing the readable documents (for prompts) raises: the serving view
    holds the topics in memory, so a broken Chroma no longer fails them."""

    def __init__(self, service) -> None:
        self.service = service

    def topics(self, audience):
        raise RuntimeError("document records unavailable")

    def __getattr__(self, name):
        return getattr(self.service, name)


class FailingAnswerer:
    """The real service, except that every answer comes back with status `error`."""

    def __init__(self, service) -> None:
        self.service = service

    def ask(self, question, **kwargs):
        return self.service.ask(question, **kwargs).model_copy(update={"status": "error", "reason": "llm_failed"})

    def __getattr__(self, name):
        return getattr(self.service, name)


@pytest.fixture(scope="module")
def broken_service(answer_service, corpus_index, tmp_path_factory):
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever
    from store.chroma import chroma_client

    copy = tmp_path_factory.mktemp("broken_index") / "data"
    shutil.copytree(corpus_index.data_dir, copy)
    settings = corpus_index.model_copy(update={"data_dir": copy})
    retriever = HybridRetriever.from_settings(settings, embedder=answer_service.retriever.embedder)
    service = AnswerService(retriever, settings=settings)
    client = chroma_client(settings)
    for collection in client.list_collections():  # the index's chunk (per visibility) and record collections
        client.delete_collection(collection.name)
    return service


def test_exception_inside_answering_gives_apology_with_reference(serve, broken_service, standin, caplog):
    standin.reset()
    app = serve(broken_service)
    caplog.set_level(logging.INFO)
    ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> What is GCOT?")
    payload = event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, "What is GCOT?", ts))
    assert post_event(app.http, app.events_url, payload).status_code == 200
    reply = standin.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == ts)[0]
    match = re.search(r"Reference: `([0-9a-f]{8})`", reply.params["text"])
    assert match and reply.params["text"].startswith("Sorry")
    assert standin.calls_to("assistant.threads.setStatus", lambda c: c.params["thread_ts"] == ts)  # status shown
    failures = [r for r in caplog.records if r.getMessage() == "slack.answer_failed"]
    assert failures and failures[0].ref == match.group(1) and failures[0].exc_info is not None
    assert failures[0].event_id == payload["event_id"]


def test_greeting_failure_also_apologises(serve, answer_service, standin):
    standin.reset()
    app = serve(FailingTopics(answer_service))
    event = assistant_thread_started(STAFF_DM, STAFF_USER, "1700009900.000100")
    assert post_event(app.http, app.events_url, event_envelope(event)).status_code == 200
    greeting, apology = standin.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == "1700009900.000100",
                                         count=2)
    assert "Global Coalition" in greeting.params["text"]
    assert apology.params["text"].startswith("Sorry") and "Reference: `" in apology.params["text"]
    assert standin.calls_to("assistant.threads.setSuggestedPrompts") == []


def test_readyz_reports_not_ready(serve, broken_service):
    app = serve(broken_service)
    response = app.http.get(app.base + "/readyz")
    assert response.status_code == 503 and response.json()["ok"] is False
    assert app.http.get(app.base + "/healthz").status_code == 200


def test_first_open_of_the_messages_tab_apologises_when_prompts_fail(serve, answer_service, standin):
    standin.reset()
    app = serve(FailingTopics(answer_service))
    event = {"type": "app_home_opened", "user": STAFF_USER, "channel": STAFF_DM, "tab": "messages", "event_ts": "1.0"}
    assert post_event(app.http, app.events_url, event_envelope(event)).status_code == 200
    greeting, apology = standin.wait_for("chat.postMessage", count=2)
    assert "Global Coalition" in greeting.params["text"] and APOLOGY.match(apology.params["text"])
    assert post_event(app.http, app.events_url, event_envelope(event)).status_code == 200
    time.sleep(0.5)
    assert len(standin.calls_to("chat.postMessage")) == 2  # a later visit stays quiet


def test_failing_answerer_gives_apology_with_reference(serve, answer_service, standin):
    standin.reset()
    app = serve(FailingAnswerer(answer_service))
    reply = status_then_reply(standin, ask(app, standin))
    assert APOLOGY.match(reply.text)
    assert standin.calls_to("chat.startStream") == []  # nothing half-shown


@pytest.mark.parametrize("failure", ["start_refused", "stop_broken", "post_rejected"])
def test_failing_slack_still_ends_with_a_reply(serve, answer_service, standin, failure):
    standin.reset()
    standin.streaming_supported = True
    app = serve(answer_service, slack_streaming=failure != "post_rejected")
    if failure == "start_refused":  # 500s past the client's retries: post the answer instead
        for _ in range(3):
            standin.fail_next("chat.startStream", status=500)
    elif failure == "stop_broken":  # the stream started, then could not be finished
        standin.fail_next("chat.stopStream", status=200, payload={"ok": False, "error": "message_not_in_streaming_state"})
    else:  # Slack rejects the Block Kit post itself
        standin.fail_next("chat.postMessage", status=200, payload={"ok": False, "error": "invalid_blocks"})
    ts = ask(app, standin)
    reply = status_then_reply(standin, ts)
    if failure == "post_rejected":
        assert APOLOGY.match(reply.text)
        return
    assert "5 October 2023" in reply.text and [b["type"] for b in reply.blocks][-2:] == ["context", "actions"]
    if failure == "stop_broken":
        assert standin.calls_to("chat.update", lambda c: c.params["ts"] == reply.ts)
    else:
        assert standin.calls_to("chat.postMessage", lambda c: c.params.get("thread_ts") == ts)
    assert app.runtime.streaming is True  # a transient failure does not turn streaming off
