"""`gcot ask/chat --audience` validation and surface-specific no-answer wording (real index, real model)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gcot.cli import app


@pytest.mark.parametrize("command", [["ask", "When did GCOT launch?"], ["chat"]])
def test_unknown_audience_is_rejected_with_the_known_ones(command):
    result = CliRunner().invoke(app, [*command, "--audience", "partner"])

    assert result.exit_code == 2
    assert "unknown audience 'partner'" in result.output and "academic, industry, staff" in result.output


def test_no_answer_text_fits_the_surface(service):
    question = "What is the GCOT annual budget?"
    cli = service.ask(question, audience="industry")
    slack = service.ask(question, audience="industry", surface="slack")

    assert cli.status == slack.status == "no_answer"
    assert "button" not in cli.text and "outreach team" in cli.text
    assert "Ask the outreach team" in slack.text
    with pytest.raises(ValueError, match="unknown surface 'email'"):
        service.ask(question, audience="industry", surface="email")
