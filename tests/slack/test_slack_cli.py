"""`gcot slack` refuses to start quickly and clearly: one line on stderr, exit 2, no traceback.

Each case runs the real `gcot` script in a subprocess, before any index is loaded: missing settings
for the chosen mode, a Slack that cannot be reached, and tokens Slack rejects (the stand-in says so).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from slack_standin import APP_TOKEN, BOT_TOKEN
from testkit import free_port

GCOT = str(Path(sys.executable).parent / "gcot")


def run_slack(tmp_path, args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GCOT_"))}
    result = subprocess.run([GCOT, "slack", *args], env={**clean, **env, "GCOT_DATA_DIR": str(tmp_path)},
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("args,env,expected", [
    (["--http"], {}, "error: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET not set"),
    ([], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "socket"}, "error: SLACK_APP_TOKEN not set"),
    ([], {"SLACK_BOT_TOKEN": "xoxb-1"}, "error: SLACK_APP_TOKEN not set (or SLACK_SIGNING_SECRET with --http)"),
    ([], {"SLACK_APP_TOKEN": "xapp-1"}, "error: SLACK_BOT_TOKEN not set"),
    (["--http"], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, "error: SLACK_SIGNING_SECRET not set"),
    ([], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_MODE": "socket"}, "error: SLACK_APP_TOKEN not set"),
])
def test_each_missing_setting_of_the_chosen_mode_is_named(tmp_path, args, env, expected):
    assert run_slack(tmp_path, args, env).startswith(expected)


def test_an_unreachable_slack_is_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    line = run_slack(tmp_path, [], {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": url})
    assert line.startswith(f"error: cannot reach Slack at {url} (")


@pytest.mark.parametrize("method,error,token_name,args,extra", [
    ("auth.test", "invalid_auth", "SLACK_BOT_TOKEN", [], {"SLACK_APP_TOKEN": APP_TOKEN}),
    ("auth.test", "token_revoked", "SLACK_BOT_TOKEN", ["--http"], {"SLACK_SIGNING_SECRET": "s"}),
    ("apps.connections.open", "not_allowed_token_type", "SLACK_APP_TOKEN", [], {"SLACK_APP_TOKEN": BOT_TOKEN}),
])
def test_a_rejected_token_is_one_line(tmp_path, fresh_standin, method, error, token_name, args, extra):
    fresh_standin.fail_next(method, status=200, payload={"ok": False, "error": error})
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fresh_standin.api_url, **extra}
    assert run_slack(tmp_path, args, env) == f"error: Slack rejected {token_name} ({error})"
    if method == "apps.connections.open":  # the bot token passed first
        assert fresh_standin.calls_to("auth.test")


def test_tokens_are_never_printed(tmp_path, fresh_standin):
    fresh_standin.fail_next("auth.test", status=200, payload={"ok": False, "error": "invalid_auth"})
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fresh_standin.api_url}
    line = run_slack(tmp_path, [], env)
    assert BOT_TOKEN not in line and APP_TOKEN not in line


def test_slack_down_is_not_blamed_on_the_token(tmp_path, fresh_standin):
    fresh_standin.fail_next("auth.test", status=503)  # the probe retries dropped connections, not answers
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fresh_standin.api_url}
    assert run_slack(tmp_path, [], env) == f"error: cannot reach Slack at {fresh_standin.api_url} (HTTP 503)"
