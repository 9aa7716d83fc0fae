from bot.slack.mrkdwn import escape_mrkdwn, link, neutralise_markdown, plain_text

PINGS = "Hi <!channel> <!here> <!everyone> <@U123ABC> <#C123|general> <!subteam^S1|@team> @here @channel @everyone"


def test_escape_mrkdwn_leaves_no_mention_or_broadcast():
    out = escape_mrkdwn(PINGS + " & more")
    assert "<" not in out and ">" not in out
    assert "&lt;!channel&gt;" in out and "&amp; more" in out
    for word in ("@here", "@channel", "@everyone"):
        assert word not in out
    assert "@\u200bhere" in out


def test_neutralise_markdown_keeps_text_readable_but_unparsable():
    out = neutralise_markdown(PINGS)
    for token in ("<!channel>", "<!here>", "<@U123ABC>", "<#C123", "<!subteam", "@here", "@channel", "@everyone"):
        assert token not in out
    assert out.replace("\u200b", "") == PINGS


def test_link_only_for_http_urls_and_label_escaped():
    assert link("https://example.org/a?b=1&c=2", "A <b> | c") == "<https://example.org/a?b=1&amp;c=2|A &lt;b&gt; ¦ c>"
    assert link("javascript:alert(1)", "x") == "x"
    assert link("", "<!here>") == "&lt;!here&gt;"


def test_plain_text_is_one_defused_line_within_limit():
    out = plain_text("line one\n<@U1> " + "x" * 100, 20)
    assert len(out) == 20 and "\n" not in out and "<@U1>" not in out and out.endswith("…")
