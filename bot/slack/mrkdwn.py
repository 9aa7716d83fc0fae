"""Make text from documents and users safe to show in Slack.

Slack turns `<@U123>`, `<!channel>`, `<!here>`, `<#C123>` and `<!subteam^S1>` into mentions, and with
`verbatim: false` (the Block Kit default) it also parses a bare `@here` or `@channel`. Text quoted from a
document or echoed from a user must never ping anyone, so every string we post goes through one of
the two functions below.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZWSP = "\u200b"  # zero-width space: breaks Slack's mention parsing without changing what people read


def escape_mrkdwn(text: str) -> str:
    """Escape `&`, `<` and `>` (Slack's three control characters) and defuse bare broadcast words.

    Args:
        text: Any untrusted text.

    Returns:
        Text for a `mrkdwn` object or a message's `text`: no link, mention or broadcast survives.

    Example:
        >>> escape_mrkdwn("ping <!channel> & @here")
        'ping &lt;!channel&gt; &amp; @\u200bhere'
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _ZWSP + m.group(1), escaped)


def neutralise_markdown(text: str) -> str:
    """Defuse mentions in text sent as `markdown_text` (chat streams), where `&lt;` would show literally.

    A zero-width space after `<` stops `<@U..>`, `<!..>` and `<#C..>` being parsed, and one after `@`
    stops bare broadcasts, while the text still reads the same.
    """
    defused = re.sub(r"<(?=[@!#])", "<" + _ZWSP, text)
    return _BROADCAST.sub(lambda m: "@" + _ZWSP + m.group(1), defused)


def plain_text(text: str, limit: int) -> str:
    """One line of plain text (titles, button labels, prompts): defused and cut to `limit` characters."""
    one_line = " ".join(neutralise_markdown(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` for http(s) URLs; anything else is shown as the escaped label only."""
    safe_label = escape_mrkdwn(label).replace("|", "¦")
    if not re.match(r"^https?://[^\s<>|]+$", url or ""):
        return safe_label
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"
