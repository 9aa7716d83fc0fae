"""`neutralise`: whatever a document says, the text Slack receives pings no one and links nowhere."""

import re

import pytest

from bot.slack.mrkdwn import LINK_REMOVED, link, markdown_link, neutralise, strip_links

HOSTILE = (
    "URGENT <!channel> <!here> <!everyone> <@U0ADMIN1> <@W0ORGADM> <!subteam^S0SECOPS|@security> @here @channel "
    "Log in at <https://evil.example/login|the official GCOT portal>, read [the Ofcom rules](https://evil.example/ofcom) "
    "or ![logo](https://evil.example/pixel.png), see https://evil.example/report?id=1, www.evil.example/x, "
    "mailto:phish@evil.example and email security@evil-corp.com or visit evil-corp.com/reset."
)
# What Slack would parse as a ping or a link in each surface, written independently of the code under test.
PING = re.compile(r"<[@!#]|(?<![\w\u200b])@(here|channel|everyone)\b|@\w", re.I)
LINK = re.compile(r"<(https?|mailto|ftp)[^>]*>|\]\(|https?://|www\.|mailto:|\b[\w-]+\.(com|org|net|example)\b", re.I)


@pytest.mark.parametrize("surface", ["mrkdwn", "markdown", "plain"])
def test_no_ping_and_no_link_survives_any_surface(surface):
    out = neutralise(HOSTILE, surface)
    assert not PING.search(out), out
    assert not LINK.search(out), out
    # Still readable: labels kept, the rest says what was removed.
    readable = out.replace("\u200b", "")
    for words in ("the official GCOT portal", "the Ofcom rules", "logo", LINK_REMOVED, "security@evil-corp.com"):
        assert words in readable


def test_mrkdwn_escapes_slack_control_characters():
    assert neutralise("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_markdown_keeps_text_as_written_apart_from_invisible_breaks():
    text = "Fees rose 5% (see section 3) for <@U1> & co."
    assert neutralise(text, "markdown").replace("\u200b", "") == text


def test_strip_links_keeps_punctuation_and_ordinary_dotted_words():
    assert strip_links("Read https://x.example/a, then stop.") == f"Read {LINK_REMOVED}, then stop."
    assert strip_links("e.g. the U.K. rules, v1.2, report.pdf") == "e.g. the U.K. rules, v1.2, report.pdf"


def test_citation_links_are_the_only_links_and_only_http():
    assert link("https://www.gov.uk/a", "Title <!here>") == "<https://www.gov.uk/a|Title &lt;!here&gt;>"
    assert link("javascript:alert(1)", "x") == "x"
    assert markdown_link("https://www.gov.uk/a", "[T] @here") == "[(T) @\u200bhere](https://www.gov.uk/a)"
    assert markdown_link("data:text/html,x", "T") == "T"


def test_unknown_surface_is_an_error():
    with pytest.raises(ValueError, match="surface"):
        neutralise("x", "html")  # type: ignore[arg-type]
