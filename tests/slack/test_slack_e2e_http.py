"""End to end over real HTTP: uvicorn serving the app on 127.0.0.1, Slack-signed Events API requests,
the real AnswerService over the test index, and the stand-in Slack Web API recording every call."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from slack_events import (
    assistant_thread_started,
    block_action,
    event_envelope,
    mention,
    message,
    post_action,
    post_event,
)
from slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    ESCALATION_CHANNEL,
    EXTERNAL_USER,
    GUEST_USER,
    INTERNAL_CHANNEL,
    OPTOUT_CHANNEL,
    OTHER_TEAM,
    SHARED_CHANNEL,
    STAFF_DM,
    STAFF_USER,
    TEAM,
    Call,
    Message,
)

from bot.slack.blocks import slack_url

ANSWERABLE = "When was the GCOT joint statement of intent published?"
CANARIES = ("BLUE-LANTERN-7", "amber heron", "CORAL-BRIDGE-42", "violet marmot", "SYNTHETIC TEST MATERIAL",
            "test-internal-steering-briefing", "test-partners-workstream-note")
INTERNAL_QUESTIONS = (
    "What is the codename of the synthetic internal workstream on subsea cable resilience?",
    "What is the canary phrase for the internal steering briefing?",
    "What is the partners workstream note codename CORAL-BRIDGE-42 about?",
)


def ask(app, standin, channel: str, user: str, text: str, *, thread_ts: str | None = None, **envelope) -> str:
    """A person posts `text` mentioning the bot; returns the message ts."""
    ts = standin.add_user_message(channel, user, f"<@{BOT_USER}> {text}", thread_ts=thread_ts)
    event = mention(channel, user, text, ts, thread_ts=thread_ts)
    if user == EXTERNAL_USER:
        event["user_team"] = OTHER_TEAM
    response = post_event(app.http, app.events_url, event_envelope(event), **envelope)
    assert response.status_code == 200
    return ts


def dm(app, standin, text: str, *, user: str = STAFF_USER, thread_ts: str | None = None) -> str:
    ts = standin.add_user_message(STAFF_DM, user, text, thread_ts=thread_ts)
    event = message(STAFF_DM, user, text, ts, channel_type="im", thread_ts=thread_ts)
    assert post_event(app.http, app.events_url, event_envelope(event)).status_code == 200
    return ts


def replies_in(standin, channel: str, thread_ts: str | None, *, count: int = 1) -> list[Call]:
    """Posted (chat.postMessage) replies in the thread: the Block Kit path."""
    return standin.wait_for("chat.postMessage",
                            lambda c: c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts,
                            count=count)


def block_texts(call: Call) -> str:
    return json.dumps(call.blocks, ensure_ascii=False)


def cards(reply: Message) -> list[dict]:
    return [c for c in reply.chunks or [] if c.get("type") == "task_update"]


def bot_posts(standin) -> list[Call]:
    return standin.calls_to("chat.postMessage") + standin.calls_to("chat.startStream")


class Rewritten:
    """The real AnswerService, its answers rewritten afterwards: sizes and characters (a 20,000-character
    answer, a title full of Slack's control characters) that the corpus itself does not produce."""

    def __init__(self, service, rewrite) -> None:
        self.service, self.rewrite = service, rewrite

    def ask(self, question, **kwargs):
        return self.rewrite(self.service.ask(question, **kwargs))

    def __getattr__(self, name):
        return getattr(self.service, name)


@pytest.fixture(scope="module")
def post_app(serve, answer_service):
    """The app with streaming off: every answer takes the Block Kit path."""
    return serve(answer_service, slack_streaming=False)


# --- conversations ---------------------------------------------------------------------------------

def test_mention_streams_answer_with_status_source_cards_and_feedback(slack_app, fresh_standin):
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    reply = fresh_standin.replies(INTERNAL_CHANNEL, ts)[0]
    status = fresh_standin.calls_to("assistant.threads.setStatus")[0]
    start = fresh_standin.calls_to("chat.startStream")[0]
    assert start.token == BOT_TOKEN and status.at < start.at
    assert status.params["thread_ts"] == ts and "searching" in status.params["status"]
    assert 2 <= len(status.params["loading_messages"]) <= 10
    assert start.params["recipient_user_id"] == STAFF_USER and start.params["recipient_team_id"] == TEAM
    assert "5 October 2023" in reply.text
    sources = [s for card in cards(reply) for s in card.get("sources", [])]
    assert sources and sources[0]["text"].startswith("[1] ") and sources[0]["url"].startswith("https://")
    assert reply.chunks[0]["type"] == "task_update"  # the source cards open the message
    types = [b["type"] for b in reply.blocks]
    assert types == ["context", "context_actions"]
    assert reply.blocks[0]["elements"][0]["text"].startswith("Answered for staff")
    feedback = reply.blocks[1]["elements"][0]
    assert feedback["type"] == "feedback_buttons" and feedback["positive_button"]["value"].startswith("helpful:")
    assert reply.metadata["event_payload"]["audience"] == "staff"
    assert fresh_standin.calls_to("chat.postMessage") == []


def test_posted_mention_reply_has_blocks_and_sources(post_app, fresh_standin):
    ts = ask(post_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    reply = replies_in(fresh_standin, INTERNAL_CHANNEL, ts)[0]
    assert "5 October 2023" in reply.params["text"] and "*Sources*" not in reply.params["text"]
    types = [b["type"] for b in reply.blocks]
    assert types[0] == "section" and types[-2:] == ["context", "actions"]
    sources = next(b["text"]["text"] for b in reply.blocks if b["type"] == "section" and "*Sources*" in b["text"]["text"])
    assert "*[1]* <https://" in sources and "2023-10-05" in sources
    assert reply.blocks[-2]["elements"][0]["text"].startswith("Answered for staff")
    assert [e["action_id"] for e in reply.blocks[-1]["elements"]] == ["feedback_helpful", "feedback_not_helpful"]
    assert reply.params.get("unfurl_links") in (False, "0", "false", 0)


def test_dm_question_is_its_own_thread_and_streams_with_sources_and_feedback(slack_app, fresh_standin):
    ts = dm(slack_app, fresh_standin, ANSWERABLE)
    reply = fresh_standin.replies(STAFF_DM, ts)[0]  # each DM message is its own thread root
    assert "5 October 2023" in reply.text
    sources = [s for card in cards(reply) for s in card.get("sources", [])]
    assert any("Joint Statement" in s["text"] or "joint statement" in s["text"].lower() for s in sources)
    assert reply.blocks[-1]["type"] == "context_actions"
    assert fresh_standin.calls_to("assistant.threads.setStatus", lambda c: c.params["thread_ts"] == ts)


def test_follow_up_in_answered_thread_needs_no_mention_and_gets_history(slack_app, fresh_standin):
    root = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    fresh_standin.replies(INTERNAL_CHANNEL, root)
    follow_up = "and is it a legally binding agreement?"
    ts = fresh_standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, follow_up, thread_ts=root)
    event = message(INTERNAL_CHANNEL, STAFF_USER, follow_up, ts, thread_ts=root)
    assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    second = fresh_standin.replies(INTERNAL_CHANNEL, root, count=2)[1]
    assert fresh_standin.calls_to("conversations.replies", lambda c: c.params["ts"] == root)
    assert "binding" in second.text  # answered about the joint statement: history was used


def test_follow_up_not_answered_in_opt_out_channel_or_unanswered_thread(slack_app, fresh_standin):
    root = ask(slack_app, fresh_standin, OPTOUT_CHANNEL, STAFF_USER, ANSWERABLE)
    fresh_standin.replies(OPTOUT_CHANNEL, root)
    ts = fresh_standin.add_user_message(OPTOUT_CHANNEL, STAFF_USER, "and who signed it?", thread_ts=root)
    post_event(slack_app.http, slack_app.events_url,
               event_envelope(message(OPTOUT_CHANNEL, STAFF_USER, "and who signed it?", ts, thread_ts=root)))
    other_root = fresh_standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, "lunch?")
    ts2 = fresh_standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, "what is GCOT?", thread_ts=other_root)
    post_event(slack_app.http, slack_app.events_url,
               event_envelope(message(INTERNAL_CHANNEL, STAFF_USER, "what is GCOT?", ts2, thread_ts=other_root)))
    time.sleep(1.0)
    assert len(bot_posts(fresh_standin)) == 1  # only the mention


def test_edits_deletions_joins_bots_and_itself_are_ignored(slack_app, fresh_standin):
    events = [
        message(INTERNAL_CHANNEL, STAFF_USER, "", "1.1", subtype="message_changed",
                message={"text": f"<@{BOT_USER}> edited", "user": STAFF_USER, "ts": "1.0"}),
        message(INTERNAL_CHANNEL, STAFF_USER, "", "1.2", subtype="message_deleted", deleted_ts="1.0"),
        message(INTERNAL_CHANNEL, STAFF_USER, f"<@{STAFF_USER}> has joined the channel", "1.3", subtype="channel_join"),
        message(STAFF_DM, "UOTHERBOT", ANSWERABLE, "1.4", channel_type="im", bot_id="BOTHER001", subtype="bot_message"),
        message(STAFF_DM, BOT_USER, ANSWERABLE, "1.5", channel_type="im", bot_id="BBOT00001"),
        mention(INTERNAL_CHANNEL, "UOTHERBOT", ANSWERABLE, "1.6") | {"bot_id": "BOTHER001"},
    ]
    for event in events:
        assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    time.sleep(1.0)
    assert bot_posts(fresh_standin) == []


# --- agent view: Messages tab, context changes, Home tab ---------------------------------------------

def test_app_home_opened_messages_greets_once_with_prompts(slack_app, fresh_standin, answer_service):
    event = {"type": "app_home_opened", "user": GUEST_USER, "channel": "DGUEST001", "tab": "messages",
             "event_ts": "1700008000.000100"}
    for _ in range(2):
        assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    prompt_calls = fresh_standin.wait_for("assistant.threads.setSuggestedPrompts", count=2)
    greetings = fresh_standin.calls_to("chat.postMessage")
    assert len(greetings) == 1 and "Global Coalition" in greetings[0].params["text"]
    assert greetings[0].params["channel"] == "DGUEST001" and "thread_ts" not in greetings[0].params
    params = prompt_calls[0].params
    assert params["channel_id"] == "DGUEST001" and "thread_ts" not in params
    prompts = params["prompts"]
    assert 3 <= len(prompts) <= 4 and all(p["title"] and p["message"] for p in prompts)
    public_topics = {t for d in answer_service.topics("industry") for t in d["topics"]}
    assert all(p["title"] == "What is GCOT?" or any(t.replace("-", " ").lower() in p["title"].lower()
               or t.lower() in p["title"].lower() for t in public_topics) for p in prompts)


def test_app_context_changed_puts_the_viewed_channels_topic_first(slack_app, fresh_standin):
    fresh_standin.channels["C6GRESRCH"] = {"is_channel": True, "is_ext_shared": False, "name": "6g-research"}
    event = {"type": "app_context_changed", "user": STAFF_USER, "channel": STAFF_DM, "event_ts": "1.0",
             "context": {"entities": [{"type": "slack#/types/channel_id", "value": "C6GRESRCH", "team_id": TEAM}]}}
    assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    prompts = fresh_standin.wait_for("assistant.threads.setSuggestedPrompts")[0].params["prompts"]
    assert prompts[1]["title"] == "About 6G"
    assert not any("6g-research" in json.dumps(p) for p in prompts)  # the channel's name is never echoed


def test_home_tab_says_who_the_answers_are_for_and_lists_recent_documents(slack_app, fresh_standin, answer_service):
    for user, audience in ((STAFF_USER, "staff"), (GUEST_USER, "industry")):
        event = {"type": "app_home_opened", "user": user, "channel": "DHOME0001", "tab": "home", "event_ts": "1.0"}
        assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
        fresh_standin.wait_for("views.publish", lambda c, u=user: c.params["user_id"] == u)
        view = json.dumps(fresh_standin.views[user], ensure_ascii=False)
        readable = {d["title"] for d in answer_service.topics(audience)}
        lines = [line for block in fresh_standin.views[user]["blocks"] if block["type"] == "section"
                 for line in block["text"]["text"].splitlines() if line.startswith("• ")]
        listed = [re.sub(r"^• (?:<[^|>]+\|([^>]+)>|(.+?))(?: · [0-9-]+)?$", r"\1\2", line) for line in lines]
        assert listed and all(title.replace("&amp;", "&") in readable for title in listed)
        if hasattr(answer_service, "recent_documents"):  # store records: linked, newest first
            recent = answer_service.recent_documents(audience)
            assert [d["title"] for d in recent] == [t.replace("&amp;", "&") for t in listed]
            assert all(line.startswith("• <http") for doc, line in zip(recent, lines) if doc["source_url"])
        assert ("full member" in view) == (audience == "staff")
        assert "Ask the outreach team" in view and f"<#{ESCALATION_CHANNEL}>" in view
    assert not any(c.lower() in json.dumps(fresh_standin.views[GUEST_USER]).lower() for c in CANARIES)


# --- assistant panel (legacy assistant_view) ---------------------------------------------------------

def test_assistant_thread_started_greets_with_suggested_prompts(slack_app, fresh_standin):
    event = assistant_thread_started(STAFF_DM, STAFF_USER, "1700009000.000100")
    assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    prompts = fresh_standin.wait_for("assistant.threads.setSuggestedPrompts")[0].params
    greeting = fresh_standin.wait_for("chat.postMessage")[0].params
    assert greeting["thread_ts"] == "1700009000.000100" and "Global Coalition" in greeting["text"]
    prompt_list = json.loads(prompts["prompts"]) if isinstance(prompts["prompts"], str) else prompts["prompts"]
    assert 3 <= len(prompt_list) <= 4
    assert all(p["title"] and p["message"] for p in prompt_list)


def test_assistant_message_sets_status_and_streams_the_reply(slack_app, fresh_standin):
    thread_ts = "1700009100.000100"
    dm(slack_app, fresh_standin, ANSWERABLE, thread_ts=thread_ts)
    reply = fresh_standin.replies(STAFF_DM, thread_ts)[0]
    status = fresh_standin.calls_to("assistant.threads.setStatus")[0]
    start = fresh_standin.calls_to("chat.startStream")[0]
    assert status.at < start.at and "searching" in status.params["status"]
    assert start.params["thread_ts"] == thread_ts and start.params["recipient_user_id"] == STAFF_USER
    assert "5 October 2023" in reply.text and cards(reply)
    assert "feedback_buttons" in json.dumps(reply.blocks)
    assert fresh_standin.calls_to("assistant.threads.setTitle")
    assert fresh_standin.calls_to("chat.postMessage") == []


def test_assistant_reply_falls_back_to_one_post_without_streaming(serve, answer_service, fresh_standin):
    app = serve(answer_service)  # a fresh process-wide "streaming works" flag
    fresh_standin.streaming_supported = False
    thread_ts = "1700009200.000100"
    dm(app, fresh_standin, ANSWERABLE, thread_ts=thread_ts)
    reply = replies_in(fresh_standin, STAFF_DM, thread_ts)[0]
    assert "5 October 2023" in reply.params["text"]
    assert app.runtime.streaming is False


# --- no answer, escalation and feedback --------------------------------------------------------------

def test_no_answer_offers_escalation_that_posts_question_and_permalink(slack_app, fresh_standin):
    question = "What is the best recipe for a sourdough pizza base?"
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, question)
    reply = fresh_standin.replies(INTERNAL_CHANNEL, ts)[0]
    buttons = {e["action_id"]: e["value"] for b in reply.blocks if b["type"] == "actions" for e in b["elements"]}
    assert "escalate_to_outreach" in buttons and reply.blocks[-1]["type"] == "context_actions"
    answer_id = buttons["escalate_to_outreach"]
    action = block_action("escalate_to_outreach", answer_id, user=STAFF_USER, channel=INTERNAL_CHANNEL,
                          message_ts=reply.ts, thread_ts=ts)
    assert post_action(slack_app.http, slack_app.events_url, action).status_code == 200
    escalation = fresh_standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == ESCALATION_CHANNEL)[0]
    told = fresh_standin.wait_for("chat.postEphemeral")[0]
    permalink = fresh_standin.calls_to("chat.getPermalink")[0]
    assert permalink.params["message_ts"] == ts
    assert question in escalation.params["text"] and "/archives/" in escalation.params["text"]
    assert "I don't have that" not in escalation.params["text"]  # nothing but the question and the link
    assert told.params["user"] == STAFF_USER and "passed your question" in told.params["text"]
    # A second click does not post twice.
    post_action(slack_app.http, slack_app.events_url, action)
    fresh_standin.wait_for("chat.postEphemeral", count=2)
    assert len(fresh_standin.calls_to("chat.postMessage", lambda c: c.params["channel"] == ESCALATION_CHANNEL)) == 1


def test_feedback_is_stored_and_exported_as_eval_cases(slack_app, fresh_standin):
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    reply = fresh_standin.replies(INTERNAL_CHANNEL, ts)[0]
    feedback = reply.blocks[-1]["elements"][0]  # the native feedback_buttons of the streamed answer
    answer_id = reply.metadata["event_payload"]["answer_id"]
    for button, user in (("negative_button", STAFF_USER), ("positive_button", GUEST_USER)):
        action = block_action(feedback["action_id"], feedback[button]["value"], user=user, channel=INTERNAL_CHANNEL,
                              message_ts=reply.ts, thread_ts=ts)
        assert post_action(slack_app.http, slack_app.events_url, action).status_code == 200
    fresh_standin.wait_for("chat.postEphemeral", count=2)
    votes = {v["helpful"]: v for v in slack_app.runtime.feedback.votes() if v["answer_id"] == answer_id}
    vote = votes[False]
    assert vote["question"] == ANSWERABLE and vote["audience"] == "staff" and votes[True]
    assert vote["doc_ids"] == ["gcot-joint-statement"]
    assert STAFF_USER not in json.dumps(vote) and len(vote["user_hash"]) == 32

    out = slack_app.runtime.settings.data_dir / "feedback-cases.jsonl"
    env = {**os.environ, "GCOT_DATA_DIR": str(slack_app.runtime.settings.data_dir)}
    gcot = str(Path(sys.executable).parent / "gcot")
    result = subprocess.run([gcot, "feedback", "export", "--out", str(out)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Exported 1 not-helpful" in result.stderr
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    case = next(c for c in cases if c["id"] == f"fb-{answer_id}")
    assert case == {"id": f"fb-{answer_id}", "question": ANSWERABLE, "audience": "staff", "answerable": True,
                    "expect": [], "gold_doc_ids": ["gcot-joint-statement"], "history": [], "category": "feedback",
                    "needs_review": True}


# --- audience ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("channel,user", [(SHARED_CHANNEL, STAFF_USER), (INTERNAL_CHANNEL, GUEST_USER),
                                          (INTERNAL_CHANNEL, EXTERNAL_USER)])
def test_public_only_readers_never_receive_internal_content(slack_app, fresh_standin, answer_service, channel, user):
    for question in INTERNAL_QUESTIONS:
        ask(slack_app, fresh_standin, channel, user, question)
    fresh_standin.wait_for("chat.stopStream", count=len(INTERNAL_QUESTIONS))
    posted = [c for c in fresh_standin.calls if c.method.startswith(("chat.", "assistant.", "views."))]
    for call in posted:
        text = call.all_text()
        assert not any(canary.lower() in text.lower() for canary in CANARIES), text
    streamed = [m for m in fresh_standin.messages if m.chunks is not None]
    assert len(streamed) == len(INTERNAL_QUESTIONS)
    public_urls = {d.get("source_url") for d in answer_service.topics("industry")} - {None}
    for reply in streamed:  # a Slack Connect channel: the stream and its metadata hold nothing non-public
        assert reply.metadata["event_payload"]["audience"] == "industry"
        assert reply.blocks[0]["elements"][0]["text"].startswith("Answered from public documents")
        for source in (s for card in cards(reply) for s in card.get("sources", [])):
            assert not public_urls or source["url"].split("#")[0] in {slack_url(u) for u in public_urls}
    if user == EXTERNAL_USER:
        assert {c.params["recipient_team_id"] for c in fresh_standin.calls_to("chat.startStream")} == {OTHER_TEAM}


def test_staff_in_internal_channel_can_read_internal_documents(slack_app, fresh_standin):
    """The control for the test above: the same question does reach the internal document for staff."""
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, INTERNAL_QUESTIONS[0])
    reply = fresh_standin.replies(INTERNAL_CHANNEL, ts)[0]
    assert "BLUE-LANTERN-7" in reply.text


def test_channel_mapping_overrides_the_default(serve, answer_service, fresh_standin):
    app = serve(answer_service, slack_channel_audiences={INTERNAL_CHANNEL: "academic"}, slack_streaming=False)
    ts = ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, INTERNAL_QUESTIONS[0])
    reply = replies_in(fresh_standin, INTERNAL_CHANNEL, ts)[0]
    assert "BLUE-LANTERN-7" not in reply.all_text()
    assert "Answered from public documents" in block_texts(reply)


# --- long answers and odd characters -----------------------------------------------------------------

def _long(answer):
    paragraph = answer.text.strip() + " "
    text = (paragraph * (20_000 // len(paragraph) + 1))[:20_000]
    return answer.model_copy(update={"text": text})


def _odd_title(answer):
    cites = [c.model_copy(update={"title": "Risks | benefits > costs & more", "source_url": c.source_url + "/a b|é"})
             for c in answer.citations]
    return answer.model_copy(update={"citations": cites})


@pytest.mark.parametrize("streaming", [True, False])
def test_a_20000_character_answer_arrives_whole_in_valid_messages(serve, answer_service, fresh_standin, streaming):
    app = serve(Rewritten(answer_service, _long), slack_streaming=streaming)
    ts = ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    expected = _long(answer_service.ask(ANSWERABLE, audience="staff")).text
    replies = fresh_standin.replies(INTERNAL_CHANNEL, ts, count=2)
    time.sleep(0.5)
    replies = fresh_standin.replies(INTERNAL_CHANNEL, ts, count=len(replies))
    assert all(c.ok for c in fresh_standin.calls if c.method.startswith("chat."))  # Slack accepted every call
    if streaming:
        whole = " ".join(r.text for r in replies)
        assert all(len(c["text"]) <= 12_000 for r in replies for c in r.chunks if c["type"] == "markdown_text")
    else:
        whole = " ".join(b["text"]["text"] for r in replies for b in r.blocks
                         if b["type"] == "section" and not b.get("block_id", "").startswith("sources"))
        whole = whole.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert whole.replace("\u200b", "").split() == expected.split()
    last = replies[-1].blocks
    assert last[-1]["type"] in ("actions", "context_actions") and not any(
        b["type"] in ("actions", "context_actions") for r in replies[:-1] for b in r.blocks or [])


def test_a_title_with_pipe_gt_and_amp_still_links(serve, answer_service, fresh_standin):
    app = serve(Rewritten(answer_service, _odd_title), slack_streaming=False)
    ts = ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    reply = replies_in(fresh_standin, INTERNAL_CHANNEL, ts)[0]
    sources = next(b["text"]["text"] for b in reply.blocks if b.get("block_id") == "sources:0")
    links = re.findall(r"<([^<>|]+)\|([^<>|]*)>", sources)
    assert links and links[0][1] == "Risks ¦ benefits &gt; costs &amp; more"
    assert re.fullmatch(r"https://\S+/a%20b%7C%C3%A9", links[0][0])
    assert sources.count("<") == sources.count(">") == len(links)  # nothing else looks like a link


# --- operations --------------------------------------------------------------------------------------

def test_bad_signature_and_stale_timestamp_are_rejected(slack_app, fresh_standin):
    payload = event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE, "1.0"))
    assert post_event(slack_app.http, slack_app.events_url, payload, secret="wrong-secret").status_code == 401
    stale = int(time.time()) - 6 * 60
    assert post_event(slack_app.http, slack_app.events_url, payload, timestamp=stale).status_code == 401
    time.sleep(0.5)
    assert fresh_standin.calls_to("chat.postMessage") == []


def test_url_verification_challenge_is_answered(slack_app):
    payload = {"token": "x", "challenge": "abc123", "type": "url_verification"}
    response = post_event(slack_app.http, slack_app.events_url, payload)
    assert response.status_code == 200 and "abc123" in response.text


def test_retried_event_is_answered_once(slack_app, fresh_standin):
    ts = fresh_standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    payload = event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE, ts))
    assert post_event(slack_app.http, slack_app.events_url, payload).status_code == 200
    for retry in (1, 2):
        assert post_event(slack_app.http, slack_app.events_url, payload, retry_num=retry).status_code == 200
    fresh_standin.replies(INTERNAL_CHANNEL, ts)
    time.sleep(1.0)
    assert len(bot_posts(fresh_standin)) == 1


def test_slack_429_on_start_stream_is_retried(slack_app, fresh_standin):
    fresh_standin.fail_next("chat.startStream", status=429)
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    fresh_standin.replies(INTERNAL_CHANNEL, ts)
    attempts = [c for c in fresh_standin.calls if c.method == "chat.startStream"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured
    assert fresh_standin.calls_to("chat.postMessage") == []


def test_slack_5xx_on_post_message_is_retried(post_app, fresh_standin):
    fresh_standin.fail_next("chat.postMessage", status=502)
    ts = ask(post_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    replies_in(fresh_standin, INTERNAL_CHANNEL, ts)
    assert [c.status for c in fresh_standin.calls if c.method == "chat.postMessage"] == [502, 200]


def test_rate_limit_sends_a_friendly_message(serve, answer_service, fresh_standin):
    app = serve(answer_service, slack_user_rate_per_minute=1)
    first = ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    fresh_standin.replies(INTERNAL_CHANNEL, first)
    ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    notice = fresh_standin.wait_for("chat.postEphemeral")[0]
    assert notice.params["user"] == STAFF_USER and "wait a minute" in notice.params["text"]
    assert len(bot_posts(fresh_standin)) == 1


def test_logs_carry_ids_but_no_tokens_or_message_bodies(slack_app, fresh_standin, caplog):
    caplog.set_level(logging.INFO)
    ts = ask(slack_app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
    fresh_standin.replies(INTERNAL_CHANNEL, ts)
    time.sleep(0.2)
    answered = [r for r in caplog.records if r.getMessage() == "slack.answered"]
    assert answered and answered[0].status == "answered" and answered[0].audience == "staff"
    from gcot.logs import JsonFormatter

    text = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.levelno >= logging.INFO)
    for forbidden in (BOT_TOKEN, APP_TOKEN, "test-signing-secret", ANSWERABLE, "joint statement", "5 October 2023"):
        assert forbidden not in text


def test_healthz_and_readyz(slack_app):
    assert slack_app.http.get(slack_app.base + "/healthz").json() == {"ok": True}
    ready = slack_app.http.get(slack_app.base + "/readyz")
    body = ready.json()
    assert ready.status_code == 200 and body["ok"] is True
    assert [body[k] for k in ("index_loaded", "chroma", "state_store")] == [True, True, True]


def test_buttons_are_acked_while_answer_workers_are_busy_and_full_queue_says_busy(serve, answer_service, fresh_standin):
    app = serve(answer_service, slack_workers=1, slack_max_pending=1)
    release = threading.Event()
    assert app.runtime.workers.submit(release.wait, 30)  # the only worker is taken, the queue is full
    try:
        action = block_action("feedback_helpful", "unknown-answer", user=STAFF_USER, channel=INTERNAL_CHANNEL,
                              message_ts="1.0")
        started = time.monotonic()
        assert post_action(app.http, app.events_url, action).status_code == 200
        assert time.monotonic() - started < 1.0
        fresh_standin.wait_for("chat.postEphemeral", timeout=5)
        ask(app, fresh_standin, INTERNAL_CHANNEL, STAFF_USER, ANSWERABLE)
        busy = fresh_standin.wait_for("chat.postEphemeral", lambda c: "a lot of questions" in c.params["text"])[0]
        assert busy.params["user"] == STAFF_USER
    finally:
        release.set()


def test_unknown_events_and_actions_are_acked_quietly(slack_app, fresh_standin, caplog):
    caplog.set_level(logging.INFO)
    event = {"type": "member_joined_channel", "user": STAFF_USER, "channel": INTERNAL_CHANNEL, "event_ts": "1.0"}
    assert post_event(slack_app.http, slack_app.events_url, event_envelope(event)).status_code == 200
    action = block_action("some_old_button", "x", user=STAFF_USER, channel=INTERNAL_CHANNEL, message_ts="1.0")
    assert post_action(slack_app.http, slack_app.events_url, action).status_code == 200
    time.sleep(0.3)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert bot_posts(fresh_standin) == []
