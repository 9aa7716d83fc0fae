"""One question from Slack to a posted reply, shared by mentions, DMs, follow-ups and the assistant.

The listener records the question as a job (`schedule_answer`, before Slack is acked); a worker on
any replica claims it and answers it (`run_job`), never on the thread that acks Slack. Whatever goes wrong, the asker gets
a short apology carrying a reference id, and the log gets one structured line with the same id.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

from slack_bolt.context.set_status import SetStatus
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.prompts import GREETING
from bot.slack.replies import deliver_answer, find_delivered, post_notice, show_status
from bot.slack.runtime import Runtime
from bot.slack.state.queue import Job
from bot.slack.threads import thread_history

log = logging.getLogger(__name__)

RATE_LIMITED = "You're asking faster than I can keep up. Please wait a minute and ask again."
BUSY = "I'm answering a lot of questions right now. Please ask again in a minute."
APOLOGY = "Sorry, something went wrong while I was answering. Please try again later. Reference: `{ref}`"
NOTICES = (GREETING, RATE_LIMITED, BUSY, APOLOGY.split("{")[0])
"""Our messages that are not answers, left out of a thread's history."""


class AnsweringFailed(Exception):
    """The answer service returned status `error`."""


class AudienceViolation(Exception):
    """An answer cited a document its audience may not read: never shown (the service should not allow it)."""


@dataclass(frozen=True)
class Question:
    """A question as Slack delivered it. `text` has mentions stripped; `thread_ts` is where to reply
    (None: top level of a DM)."""

    text: str
    user: str
    channel: str
    ts: str
    thread_ts: str | None
    channel_type: str | None = None
    team: str | None = None
    enterprise: str | None = None
    assistant: bool = False
    event_id: str | None = None
    user_team: str | None = None
    """The asker's own workspace (differs from `team` in Slack Connect channels); streams are addressed to it."""

    @property
    def is_private(self) -> bool:
        return self.channel_type == "im" or self.assistant


@dataclass(frozen=True)
class Bot:
    """Who "we" are in this workspace (from Bolt's authorization)."""

    user_id: str | None
    bot_id: str | None


MAX_ATTEMPTS = 3
"""A job claimed this often (its replicas kept dying while answering it) gets an apology instead."""


def schedule_answer(runtime: Runtime, client: WebClient, question: Question, *, bot: Bot,
                    set_status: Callable[..., object] | None = None) -> None:
    """Record `question` as a job in the shared queue and wake a local worker; say so if the queue is full.

    Listeners call this before Slack is acked (Bolt runs them before the response), so an acked
    question is never lost: a worker on any replica answers it, another one if that replica dies.
    """
    payload = {"question": asdict(question), "bot": asdict(bot), "status": set_status is not None}
    if runtime.queue.enqueue(payload, event_id=question.event_id, max_pending=runtime.settings.slack_max_pending,
                             extra_pending=runtime.workers.local_pending):
        runtime.workers.wake()
        return
    log.warning("slack.busy", extra={"event_id": question.event_id, "channel": question.channel})
    post_notice(client, BUSY, channel=question.channel, thread_ts=question.thread_ts,
                ephemeral_user=None if question.is_private else question.user)


def run_job(runtime: Runtime, job: Job) -> None:
    """Answer a claimed job (the worker loop in `runtime.AnswerWorkers` calls this)."""
    known = {f.name for f in fields(Question)}  # a job queued by an older or newer replica still loads
    question = Question(**{k: v for k, v in job.payload["question"].items() if k in known})
    bot = Bot(**job.payload["bot"])
    client = runtime.client
    if job.attempts > 1:
        log.info("slack.job_reclaimed", extra={"event_id": question.event_id, "attempts": job.attempts})
        delivered = find_delivered(client, channel=question.channel, thread_ts=question.thread_ts,
                                   question_ts=question.ts, bot_id=bot.bot_id)
        if delivered:  # the replica that died had finished; only its "done" was lost
            log.info("slack.job_already_answered", extra={"event_id": question.event_id, "attempts": job.attempts})
            return
    if job.attempts > MAX_ATTEMPTS:
        ref = secrets.token_hex(4)
        log.error("slack.job_abandoned", extra={"ref": ref, "event_id": question.event_id, "attempts": job.attempts})
        post_notice(client, APOLOGY.format(ref=ref), channel=question.channel, thread_ts=question.thread_ts)
        return
    set_status = None
    if job.payload.get("status") and question.thread_ts:
        set_status = SetStatus(client, question.channel, question.thread_ts)
    answer_question(runtime, client, question, bot=bot, set_status=set_status)


def answer_question(runtime: Runtime, client: WebClient, question: Question, *, bot: Bot,
                    set_status: Callable[..., object] | None = None) -> None:
    """Answer `question` in Slack: rate limit, audience, history, answer, reply, remember."""
    ref = secrets.token_hex(4)
    started = time.perf_counter()
    fields = {"ref": ref, "event_id": question.event_id, "channel": question.channel, "assistant": question.assistant}
    try:
        limited = runtime.limiter.check(user=question.user, channel=question.channel, ref=question.event_id)
        if limited:
            log.info("slack.rate_limited", extra={**fields, "limit": limited})
            post_notice(client, RATE_LIMITED, channel=question.channel, thread_ts=question.thread_ts,
                        ephemeral_user=None if question.is_private else question.user)
            return
        audience = runtime.audiences.resolve(client, channel=question.channel, user=question.user, team=question.team,
                                             channel_type=question.channel_type, enterprise=question.enterprise)
        if question.thread_ts:  # before replying, so a quick follow-up already finds the thread
            runtime.threads.mark_answered(question.channel, question.thread_ts)
            # Every surface with a thread shows the working status (chat:write suffices, even in channels).
            show_status(client, channel=question.channel, thread_ts=question.thread_ts, set_status=set_status)
        history = []
        if question.thread_ts and question.thread_ts != question.ts:
            history = thread_history(client, channel=question.channel, thread_ts=question.thread_ts,
                                     before_ts=question.ts, bot_user_id=bot.user_id, bot_id=bot.bot_id,
                                     limit=runtime.settings.slack_history_turns, skip_prefixes=NOTICES)
        answer = _ask(runtime.service, question.text, audience=audience, history=history)
        if answer.status == "error":
            raise AnsweringFailed(answer.reason or "error")
        _check_audience(runtime, answer, audience)
        escalation = (answer.status == "no_answer" and answer.reason != "empty_question"
                      and bool(runtime.settings.slack_escalation_channel))
        runtime.feedback.record_answer(answer, question=question.text, channel=question.channel,
                                       question_ts=question.ts, thread_ts=question.thread_ts or question.ts)
        _reply(runtime, client, question, answer, escalation=escalation)
        log.info("slack.answered", extra={
            **fields, "answer_id": answer.answer_id, "status": answer.status, "audience": audience,
            "citations": len(answer.citations), "history_turns": len(history), "generator": answer.generator,
            "answer_ms": answer.timings.get("total_ms"), "ms": round((time.perf_counter() - started) * 1000, 1)})
    except Exception as exc:  # noqa: BLE001 - the asker must hear back whatever failed
        log.error("slack.answer_failed", exc_info=True, extra={**fields, "error_type": type(exc).__name__})
        try:
            post_notice(client, APOLOGY.format(ref=ref), channel=question.channel, thread_ts=question.thread_ts)
        except Exception:  # noqa: BLE001
            log.error("slack.apology_failed", exc_info=True, extra=fields)


def _reply(runtime: Runtime, client: WebClient, question: Question, answer, *, escalation: bool) -> str:
    """Stream the answer where Slack allows it (any reply in a thread), else post it as Block Kit."""
    delivery = deliver_answer(client, answer, channel=question.channel, thread_ts=question.thread_ts,
                              team=question.user_team or question.team, user=question.user, escalation=escalation,
                              stream=bool(question.thread_ts) and runtime.streaming, question_ts=question.ts,
                              on_stream_refused=lambda: setattr(runtime, "streaming", False))  # for the process
    return delivery.ts[0]


def _check_audience(runtime: Runtime, answer, audience: str) -> None:
    """Fail closed: refuse to show an answer citing a document outside the audience's documents."""
    if not answer.citations:
        return
    readable = {doc["doc_id"] for doc in runtime.service.topics(audience)}
    if any(c.doc_id not in readable for c in answer.citations):
        raise AudienceViolation(answer.answer_id)


@lru_cache(maxsize=8)
def _accepts_surface(ask: Callable[..., object]) -> bool:
    try:
        return "surface" in inspect.signature(ask).parameters
    except (TypeError, ValueError):
        return False


def _ask(service, text: str, *, audience: str, history: list):
    """`service.ask`, telling it the answer is for Slack (so a no-answer offers the button) when it can take that."""
    if _accepts_surface(type(service).ask):
        return service.ask(text, audience=audience, history=history, surface="slack")
    return service.ask(text, audience=audience, history=history)


def best_effort(call: Callable[..., object], *args: object) -> None:
    """Status and titles are cosmetic: a refusal (e.g. outside an assistant thread) must not stop the answer."""
    try:
        call(*args)
    except SlackApiError as exc:
        log.debug("slack.cosmetic_call_failed", extra={"error": exc.response.get("error")})
