"""Block Kit for replies: the answer, numbered sources, an audience line and the buttons.

Slack refuses a section whose text exceeds 3,000 characters and a message of more than 50 blocks, so
an answer is split on whitespace into sections, and the sections are packed into as many messages as
it takes (`answer_messages`): a long answer arrives whole, never cut. All document text goes through
`escape_mrkdwn`, every mrkdwn object is `verbatim` so Slack does not auto-link names or mentions, and
citation URLs are percent-encoded so any title or URL still makes one valid `<url|label>` link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.slack.mrkdwn import escape_mrkdwn, link
from bot.types import Answer, Citation

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MESSAGE_CHARS = 12_000
"""Text per message: the same budget as a stream's `markdown_text`, so both paths split alike."""
FALLBACK_TEXT_LIMIT = 3000

FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
FEEDBACK = "answer_feedback"
"""`feedback_buttons` element (streamed answers); its values are `helpful:<id>` / `not_helpful:<id>`."""
ESCALATE = "escalate_to_outreach"

_AUDIENCE_LINES = {
    "staff": "Answered for staff from public, partner and internal documents",
    "industry": "Answered from public documents",
    "academic": "Answered from public documents",
}
# Characters a URL may keep; everything else (spaces, `|`, `<`, `>`, quotes, non-ASCII) is %-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"

Block = dict[str, Any]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut text into pieces of at most `limit` characters, preferring paragraph, line and word
    boundaries so an entity like `&amp;` is never split."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:  # no whitespace worth using: hard cut, stepping back off any entity
            cut = limit
            amp = window.rfind("&", limit - 6)
            if amp != -1 and ";" not in window[amp:]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def citation_url(citation: Citation) -> str:
    """The URL to open for a citation: `Citation.link` (with `#page=N` for PDFs) when it has one."""
    return str(getattr(citation, "link", "") or citation.source_url or "")


def slack_url(url: str) -> str:
    """`url` percent-encoded so it survives inside `<url|label>`: spaces, `|`, `>` and non-ASCII."""
    return quote(url.strip(), safe=_URL_SAFE) if url else ""


def source_line(citation: Citation) -> str:
    """`*[1]* <url|Title> · 2023-10-05`, everything escaped."""
    parts = [f"*[{citation.n}]*", link(slack_url(citation_url(citation)), citation.title or citation.doc_id)]
    if citation.published:
        parts.append("· " + escape_mrkdwn(citation.published))
    return " ".join(parts)


def audience_line(audience: str) -> str:
    return _AUDIENCE_LINES.get(audience, _AUDIENCE_LINES["industry"])


def sources_blocks(answer: Answer) -> list[Block]:
    if not answer.citations:
        return []
    lines = "\n".join(source_line(c) for c in sorted(answer.citations, key=lambda c: c.n))
    pieces = split_text("*Sources*\n" + lines)
    return [{"type": "section", "block_id": f"sources:{i}", "text": mrkdwn(piece)} for i, piece in enumerate(pieces)]


def context_block(answer: Answer) -> Block:
    return {"type": "context", "elements": [mrkdwn(f"{audience_line(answer.audience)} · ref `{answer.answer_id}`")]}


def footer_blocks(answer: Answer, *, escalation: bool) -> list[Block]:
    """Sources, the audience context line and the buttons: the part below the answer text.

    Args:
        answer: The answer being rendered.
        escalation: Offer "Ask the outreach team" (only on a no-answer, when a channel is configured).
    """
    buttons: list[Block] = []
    if escalation:
        buttons.append(_button("Ask the outreach team", ESCALATE, answer.answer_id, style="primary"))
    buttons.append(_button("Helpful", FEEDBACK_HELPFUL, answer.answer_id))
    buttons.append(_button("Not helpful", FEEDBACK_NOT_HELPFUL, answer.answer_id))
    actions = {"type": "actions", "block_id": f"answer_actions:{answer.answer_id}", "elements": buttons}
    return [*sources_blocks(answer), context_block(answer), actions]


def stream_footer_blocks(answer: Answer, *, escalation: bool) -> list[Block]:
    """What `chat.stopStream` attaches: the audience line, native feedback buttons (`feedback_buttons`
    in a `context_actions` block) and, for a no-answer, the escalation button. The sources are the
    stream's task card, so they are not repeated here."""
    feedback = {
        "type": "feedback_buttons", "action_id": FEEDBACK,
        "positive_button": {"text": {"type": "plain_text", "text": "Helpful"}, "value": f"helpful:{answer.answer_id}",
                            "accessibility_label": "This answer was helpful"},
        "negative_button": {"text": {"type": "plain_text", "text": "Not helpful"},
                            "value": f"not_helpful:{answer.answer_id}",
                            "accessibility_label": "This answer was not helpful"},
    }
    blocks: list[Block] = [context_block(answer)]
    if escalation:
        blocks.append({"type": "actions", "block_id": f"answer_escalate:{answer.answer_id}",
                       "elements": [_button("Ask the outreach team", ESCALATE, answer.answer_id, style="primary")]})
    blocks.append({"type": "context_actions", "block_id": f"answer_feedback:{answer.answer_id}", "elements": [feedback]})
    return blocks


def answer_parts(text: str) -> list[str]:
    """The answer text in parts of at most `MESSAGE_CHARS` characters: one message (or stream) each."""
    return split_text(text, MESSAGE_CHARS) or [""]


def text_sections(part: str) -> list[Block]:
    sections = split_text(escape_mrkdwn(part)) or ["_(empty answer)_"]
    return [{"type": "section", "text": mrkdwn(piece)} for piece in sections]


def pack(blocks: list[Block], *, keep_last: int = 0, limit: int = MAX_BLOCKS) -> list[list[Block]]:
    """Blocks in messages of at most `limit` blocks; the final `keep_last` blocks stay together."""
    head, tail = (blocks[:-keep_last], blocks[-keep_last:]) if keep_last else (blocks, [])
    messages = [head[i : i + limit] for i in range(0, len(head), limit)] or [[]]
    if len(messages[-1]) + len(tail) > limit:
        messages.append([])
    messages[-1].extend(tail)
    return [m for m in messages if m]


def answer_messages(answer: Answer, *, escalation: bool = False) -> list[list[Block]]:
    """The whole reply for `chat.postMessage`, as many messages as it takes: text sections (one part of
    `answer_parts` per message), then the sources, the context line and the buttons in the last."""
    sections = [text_sections(part) for part in answer_parts(answer.text)]
    footer = footer_blocks(answer, escalation=escalation)
    messages: list[list[Block]] = []
    for i, part in enumerate(sections):
        last = i == len(sections) - 1
        messages.extend(pack(part + footer, keep_last=2) if last else pack(part))
    return messages


def answer_blocks(answer: Answer, *, escalation: bool = False) -> list[Block]:
    """A short answer as one message's blocks (the first of `answer_messages` when it is long)."""
    return answer_messages(answer, escalation=escalation)[0]


def fallback_text(answer: Answer, part: str | None = None) -> str:
    """The message `text` shown in notifications and to clients without Block Kit."""
    text = escape_mrkdwn(answer.text if part is None else part)
    return text if len(text) <= FALLBACK_TEXT_LIMIT else split_text(text, FALLBACK_TEXT_LIMIT)[0] + " …"


def notice_blocks(text: str) -> list[Block]:
    """A one-section message for apologies and notices (text already safe)."""
    return [{"type": "section", "text": mrkdwn(text)}]


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button
