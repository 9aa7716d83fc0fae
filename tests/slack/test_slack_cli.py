"""`gcot slack` refuses to start, quickly and clearly, when a token or secret is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

GCOT = str(Path(sys.executable).parent / "gcot")


@pytest.mark.parametrize("args,env,missing", [
    (["slack", "--http"], {}, "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "socket"}, "SLACK_APP_TOKEN"),
])
def test_missing_secrets_exit_2_before_loading_the_index(tmp_path, args, env, missing):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = subprocess.run([GCOT, *args], env={**clean, **env, "GCOT_DATA_DIR": str(tmp_path)}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"error: {missing} not set" in result.stderr
