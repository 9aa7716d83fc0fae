"""A real fault inside answering: the app runs over a copy of the index whose Chroma collection has
been deleted, so every question fails inside retrieval. The asker must still get an apology with a
reference id, the log a structured line with the same id, and /readyz must report not ready."""

from __future__ import annotations

import logging
import re
import shutil

import pytest

from slack_events import assistant_thread_started, event_envelope, mention, post_event
from slack_standin import BOT_USER, INTERNAL_CHANNEL, STAFF_DM, STAFF_USER


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
    chroma_client(settings).delete_collection(retriever.store.name)
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
    failures = [r for r in caplog.records if r.getMessage() == "slack.answer_failed"]
    assert failures and failures[0].ref == match.group(1) and failures[0].exc_info is not None
    assert failures[0].event_id == payload["event_id"]


def test_greeting_failure_also_apologises(serve, broken_service, standin):
    standin.reset()
    app = serve(broken_service)
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
