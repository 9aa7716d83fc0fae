"""Ingest while serving on the embedded default: a real `gcot slack --http --ingest DIR --every 2s`
process ingests its folder itself (one writer), picks up a changed folder with no restart, and a
separate `gcot ingest` on the same data dir is refused with advice instead of writing beside it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from live_helpers import GCOT, base_docs, env_for, free_port, run_gcot, wait_for, write_doc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))  # the Slack stand-in and signing helpers
from slack_events import SIGNING_SECRET, event_envelope, mention, post_event  # noqa: E402
from slack_standin import BOT_TOKEN, BOT_USER, INTERNAL_CHANNEL, STAFF_USER, SlackStandIn  # noqa: E402


def _ask(client: httpx.Client, url: str, standin: SlackStandIn, text: str) -> str:
    """Mention the bot with `text`; returns the text of its threaded reply."""
    ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> {text}")
    response = post_event(client, url, event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, text, ts)))
    assert response.status_code == 200
    reply = standin.replies(INTERNAL_CHANNEL, ts, timeout=60)[0]  # posted, or streamed and stopped
    return reply.text + json.dumps(reply.chunks or [])


def test_slack_ingest_every_serves_a_changed_folder_and_refuses_a_second_writer(tmp_path: Path, settings_factory) -> None:
    docs = base_docs(tmp_path / "docs")
    settings = settings_factory(data_dir=tmp_path / "data")
    standin = SlackStandIn().start()
    port = free_port()
    env = env_for(settings, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, SLACK_MODE="http", GCOT_INDEX_REFRESH_S="0.25")
    log = (tmp_path / "slack.log").open("w")
    bot = subprocess.Popen([str(GCOT), "slack", "--http", "--port", str(port), "--ingest", str(docs), "--every", "2s"],
                           cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = httpx.Client(timeout=10)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_for(lambda: _ready(client, base, bot, tmp_path / "slack.log"), timeout=240, what="/readyz")
        v0 = ready["index_version"]
        assert "March 2021" in _ask(client, base + "/slack/events", standin, "When was the Puffin relay programme launched?")

        # A second process writing the same embedded store is refused, and told what to do instead.
        refused = run_gcot(["ingest", str(docs)], settings, cwd=tmp_path)
        assert refused.returncode != 0
        message = refused.stderr + refused.stdout
        assert "--ingest" in message and "CHROMA_HOST" in message and str(bot.pid) in message, message

        # The bot's own schedule ingests the changed folder; the reload serves it.
        write_doc(docs, "zephyr-relay", "The Zephyr relay programme",
                  "The Zephyr relay programme was launched by the coalition in March 2024. It funds coastal relay masts.")
        wait_for(lambda: (r := _ready(client, base, bot, tmp_path / "slack.log")) and r["index_version"] != v0,
                 timeout=90, what="the bot's scheduled ingest to publish a new version")
        assert "March 2024" in _ask(client, base + "/slack/events", standin, "When was the Zephyr relay programme launched?")
    finally:
        client.close()
        bot.terminate()
        try:
            bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
        log.close()
        standin.stop()


def _ready(client: httpx.Client, base: str, bot: subprocess.Popen, log: Path) -> dict | None:
    if bot.poll() is not None:
        pytest.fail(f"gcot slack exited with {bot.returncode}:\n{log.read_text()[-4000:]}")
    try:
        response = client.get(base + "/readyz")
    except httpx.HTTPError:
        return None
    body = response.json()
    return body if response.status_code == 200 and body.get("ok") else None
