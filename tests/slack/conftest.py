"""Fixtures for the Slack tests: the stand-in Slack, the real AnswerService, and the app served by
uvicorn on a free loopback port.

The AnswerService (real model, real Chroma, real BM25 over `corpus_index`) is loaded once per session
and warmed up; each app gets its own data dir for its SQLite state, so the shared index stays clean.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from gcot.settings import Settings
from slack_events import SIGNING_SECRET
from slack_standin import APP_TOKEN, BOT_TOKEN, ESCALATION_CHANNEL, OPTOUT_CHANNEL, SlackStandIn
from testkit import free_port


@pytest.fixture(scope="session")
def answer_service(corpus_index: Settings):
    from bot.answer.service import AnswerService

    service = AnswerService.from_settings(corpus_index)
    service.ask("When was the GCOT joint statement published?", audience="staff")  # first call pays warm-up
    return service


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def fresh_standin(standin: SlackStandIn) -> SlackStandIn:
    standin.reset()
    standin.streaming_supported = True
    return standin


def slack_settings(corpus_index: Settings, standin: SlackStandIn, data_dir: Path, **overrides: object) -> Settings:
    """Settings of the Slack app: the shared index's paths for nothing but its own `data_dir`."""
    values: dict[str, object] = {
        "data_dir": data_dir, "chroma_host": None, "chroma_port": None,
        "slack_bot_token": BOT_TOKEN, "slack_app_token": APP_TOKEN, "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": standin.api_url, "slack_escalation_channel": ESCALATION_CHANNEL,
        "slack_thread_followups_opt_out": [OPTOUT_CHANNEL],
        "slack_user_rate_per_minute": 1000, "slack_channel_rate_per_minute": 1000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class RunningApp:
    """`build_http_app(...)` served by uvicorn in a thread on 127.0.0.1."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn-test")
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.http = httpx.Client(timeout=10)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return self.base + "/slack/events"

    @property
    def runtime(self):
        return self.app.state.runtime

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def make_slack_settings(tmp_path_factory: pytest.TempPathFactory, corpus_index: Settings,
                        standin: SlackStandIn) -> Callable[..., Settings]:
    """`make_slack_settings(**overrides)` -> test Settings pointing at the stand-in, with a fresh data dir."""
    return lambda **overrides: slack_settings(corpus_index, standin, tmp_path_factory.mktemp("slack_app"), **overrides)


@pytest.fixture(scope="module")
def serve(make_slack_settings: Callable[..., Settings]) -> Iterator[Callable[..., RunningApp]]:
    """`serve(service, **settings_overrides)` -> a RunningApp; all are stopped at module end."""
    from bot.slack.http_app import build_http_app

    running: list[RunningApp] = []

    def start(service, **overrides: object) -> RunningApp:
        app = RunningApp(build_http_app(make_slack_settings(**overrides), service))
        running.append(app)
        return app

    yield start
    for app in running:
        app.stop()


@pytest.fixture(scope="module")
def slack_app(serve, answer_service) -> RunningApp:
    """The app with the default test settings, shared by a module's tests."""
    return serve(answer_service)
