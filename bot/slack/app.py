"""Build the Bolt app: one Web API client, the shared runtime, every listener."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App

from bot.slack.client import build_web_client
from bot.slack.listeners import register_listeners
from bot.slack.runtime import Runtime


def build_app(runtime: Runtime, *, http: bool) -> App:
    """The Bolt `App`, and the runtime's answering workers started.

    Listeners run before Slack gets its ack (`process_before_response`): a question is recorded as a
    job in the shared queue first, so an acked question survives the replica dying. Listeners only
    decide and enqueue (a few milliseconds); answering happens on `runtime.workers`, so neither an
    event's nor a button's ack waits for an answer. `http` turns on request signing checks."""
    settings = runtime.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if http and not secret:
        msg = "SLACK_SIGNING_SECRET is not set (needed to verify Events API requests)"
        raise ValueError(msg)
    app = App(
        client=build_web_client(settings),
        signing_secret=secret,
        request_verification_enabled=http,
        listener_executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-listener"),
        process_before_response=True,
    )
    app.use(runtime.dedupe.middleware)
    app.use(runtime.attach)
    register_listeners(app)
    runtime.start(app.client)
    return app
