"""Make text from documents, models and users safe to show in Slack: no pings, no foreign links.

Slack turns `<@U123>`, `<!channel>`, `<!here>`, `<#C123>` and `<!subteam^S1>` into mentions, parses a
bare `@here` or `@channel` in some surfaces, and links `<url|label>`, Markdown `[label](url)`, bare
URLs, domains and e-mail addresses. Retrieved documents are data: whatever they contain, a reply must
not ping anyone and must not carry any link except its citations' source URLs (added with `link`).

Every string we post goes through `neutralise`, which picks the rules of the surface:

- `"mrkdwn"`: mrkdwn objects and a message's `text` (Slack's three control characters escaped);
- `"markdown"`: `markdown_text` of chat streams and `markdown` blocks, where `&lt;` would show literally,
  so a zero-width space after `<` and `@` stops the parsing instead;
- `"plain"`: `plain_text` objects (titles, labels, prompts).

Links in the text are removed whatever the surface: `<url|label>` and `[label](url)` keep only their
label, explicit URLs (`https://...`, `www....`, `mailto:`) become `[link removed]`, and bare domains and
e-mail addresses are defused with a zero-width space so Slack does not link them.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.untrusted import LINK_REMOVED, ZWSP, strip_links

Surface = Literal["mrkdwn", "markdown", "plain"]

__all__ = ["LINK_REMOVED", "escape_mrkdwn", "link", "markdown_link", "neutralise", "neutralise_markdown",
           "plain_text", "strip_links"]

_ZWSP = ZWSP
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_AT_WORD = re.compile(r"@(?=\w)")


def _defuse_at(text: str) -> str:
    """A zero-width space after every `@` that starts a word: no bare broadcast or name is parsed."""
    return _AT_WORD.sub("@" + _ZWSP, text)


def escape_mrkdwn(text: str) -> str:
    """Text for a `mrkdwn` object or a message's `text`: links removed, `&`, `<`, `>` escaped, `@` defused.

    Args:
        text: Any untrusted text.

    Returns:
        Text in which no link, mention or broadcast survives.

    Example:
        >>> escape_mrkdwn("ping <!channel> & @here")
        'ping &lt;!channel&gt; &amp; @\u200bhere'
    """
    escaped = strip_links(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _defuse_at(escaped)


def neutralise_markdown(text: str) -> str:
    """Text for `markdown_text` (chat streams) and `markdown` blocks: links removed, mentions defused.

    A zero-width space after `<` stops `<@U..>`, `<!..>` and `<#C..>` being parsed, and one after `@`
    stops bare broadcasts, while the text still reads the same.
    """
    defused = re.sub(r"<(?=[@!#])", "<" + _ZWSP, strip_links(text))
    return _defuse_at(defused)


def neutralise(text: str, surface: Surface = "mrkdwn") -> str:
    """The one function for any untrusted text that reaches Slack (documents, model output, user text).

    Args:
        text: The text to show.
        surface: `"mrkdwn"` (mrkdwn objects, a message's `text`), `"markdown"` (`markdown_text` of
            streams, `markdown` blocks) or `"plain"` (`plain_text` objects). Defaults to `"mrkdwn"`.

    Returns:
        The text with no mention, broadcast or link left (add citation links with `link`).
    """
    if surface == "mrkdwn":
        return escape_mrkdwn(text)
    if surface == "markdown":
        return neutralise_markdown(text)
    if surface == "plain":
        return neutralise_markdown(text)
    msg = f"unknown Slack surface {surface!r}"
    raise ValueError(msg)


def plain_text(text: str, limit: int) -> str:
    """One line of plain text (titles, button labels, prompts): defused and cut to `limit` characters."""
    one_line = " ".join(neutralise(text, "plain").split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` for http(s) URLs; anything else is shown as the escaped label only.

    The only way a link gets into a reply: callers pass a citation's source URL.
    """
    safe_label = escape_mrkdwn(label).replace("|", "¦")
    if not re.match(r"^https?://[^\s<>|]+$", url or ""):
        return safe_label
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"


def markdown_link(url: str, label: str) -> str:
    """A Markdown link `[label](url)` for `markdown_text`, http(s) only; otherwise the defused label."""
    safe_label = neutralise_markdown(label).replace("[", "(").replace("]", ")")
    if not re.match(r"^https?://[^\s<>()\[\]]+$", url or ""):
        return safe_label
    return f"[{safe_label}]({url})"
