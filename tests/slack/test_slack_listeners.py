"""Listener callbacks called directly, bolt-sample style: Mock(Ack), a Mock Web API client, a real
runtime (SQLite state in tmp_path)."""

import logging
from unittest.mock import Mock

import pytest
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.answer import Answer
from bot.slack.listeners.actions.escalate import escalate_callback
from bot.slack.listeners.actions.feedback import feedback_callback
from bot.slack.listeners.events.message import message_callback
from bot.slack.listeners.internals import is_person_asking
from bot.slack.runtime import Runtime
from gcot.settings import Settings


@pytest.fixture
def runtime(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, slack_escalation_channel="CESC")
    return Runtime.create(settings, service=Mock(spec=["ask", "ready", "topics"]))


@pytest.fixture
def context(runtime):
    return BoltContext({"bot_user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "gcot": runtime})


def action_body(action_id, value, channel="C1"):
    return {"user": {"id": "U1"}, "channel": {"id": channel}, "message": {"ts": "2.0", "thread_ts": "1.0"},
            "actions": [{"action_id": action_id, "value": value}]}


@pytest.mark.parametrize("event,expected", [
    ({"user": "U1", "text": "hi"}, True),
    ({"user": "U1", "text": "hi", "subtype": "thread_broadcast"}, True),
    ({"user": "UBOT", "text": "hi"}, False),
    ({"user": "U2", "text": "hi", "bot_id": "B2"}, False),
    ({"text": "hi", "subtype": "bot_message", "bot_id": "B2"}, False),
    ({"user": "U1", "subtype": "message_changed"}, False),
    ({"user": "U1", "subtype": "message_deleted"}, False),
    ({"user": "U1", "subtype": "channel_join", "text": "joined"}, False),
    ({"user": "U1", "text": "hi", "edited": {"ts": "3.0"}}, False),
])
def test_is_person_asking(context, event, expected):
    assert is_person_asking(event, context) is expected


def test_channel_chatter_and_unanswered_threads_are_ignored(context):
    client = Mock(WebClient)
    for event in ({"user": "U1", "text": "lunch?", "ts": "1.0", "channel": "C1", "channel_type": "channel"},
                  {"user": "U1", "text": "more", "ts": "2.0", "thread_ts": "1.0", "channel": "C1", "channel_type": "channel"}):
        message_callback(event=event, body={}, context=context, client=client)
    assert client.method_calls == []


def test_feedback_acks_stores_and_thanks_privately(runtime, context):
    runtime.feedback.record_answer(Answer(answer_id="a1", status="answered", text="t", audience="staff"),
                                   question="q", channel="C1", question_ts="1.0", thread_ts="1.0")
    ack, client = Mock(Ack), Mock(WebClient)
    body = action_body("feedback_not_helpful", "a1")
    feedback_callback(ack=ack, body=body, action=body["actions"][0], context=context, client=client)
    ack.assert_called_once()
    assert runtime.feedback.votes()[0]["helpful"] is False
    kwargs = client.chat_postEphemeral.call_args.kwargs
    assert kwargs["user"] == "U1" and kwargs["thread_ts"] == "1.0" and "Thanks" in kwargs["text"]


def test_escalation_of_an_unknown_answer_apologises_and_logs(context, caplog):
    ack, client = Mock(Ack), Mock(WebClient)
    body = action_body("escalate_to_outreach", "gone")
    with caplog.at_level(logging.ERROR):
        escalate_callback(ack=ack, body=body, action=body["actions"][0], context=context, client=client)
    ack.assert_called_once()
    client.chat_postMessage.assert_not_called()
    text = client.chat_postEphemeral.call_args.kwargs["text"]
    ref = caplog.records[0].ref
    assert text.startswith("Sorry") and ref in text


def test_context_change_to_a_shared_channel_never_widens_the_prompts(runtime, context):
    from bot.slack.listeners.events.app_context_changed import app_context_changed_callback

    runtime.service.topics.return_value = [{"doc_id": "a", "title": "A", "topics": ["6g", "skills"]}]
    client = Mock(WebClient)
    client.users_info.return_value = {"user": {"id": "U1", "team_id": "T1"}}
    client.conversations_info.return_value = {"channel": {"id": "C6G", "name": "6g-research", "is_ext_shared": True}}
    event = {"type": "app_context_changed", "user": "U1", "channel": "D1",
             "context": {"entities": [{"type": "slack#/types/channel_id", "value": "C6G"}]}}
    app_context_changed_callback(event=event, context=context, client=client)
    assert {c.args[0] for c in runtime.service.topics.call_args_list} == {"industry"}  # the narrower audience
    kwargs = client.assistant_threads_setSuggestedPrompts.call_args.kwargs
    assert kwargs["channel_id"] == "D1" and kwargs["prompts"][1]["title"] == "About 6G"
    assert "thread_ts" not in kwargs
