"""Block Kit for replies: the answer, numbered sources, an audience line and the buttons.

Slack refuses a section whose text exceeds 3,000 characters and a message of more than 50 blocks, so
long answers are split on whitespace into several sections and, past the block budget, cut with a note.
All document text goes through `escape_mrkdwn` and every mrkdwn object is `verbatim` so Slack does
not auto-link names or mentions.
"""

from __future__ import annotations

from typing import Any

from bot.answer import Answer, Citation
from bot.slack.mrkdwn import escape_mrkdwn, link

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
FALLBACK_TEXT_LIMIT = 3000

FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
ESCALATE = "escalate_to_outreach"

_AUDIENCE_LINES = {
    "staff": "Answered for staff from public, partner and internal documents",
    "industry": "Answered from public documents",
    "academic": "Answered from public documents",
}

Block = dict[str, Any]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut already-escaped text into pieces of at most `limit` characters, preferring paragraph,
    line and word boundaries so an entity like `&amp;` is never split."""
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


def source_line(citation: Citation) -> str:
    """`*[1]* <url|Title> · 2023-10-05`, everything escaped."""
    parts = [f"*[{citation.n}]*", link(citation.source_url, citation.title or citation.doc_id)]
    if citation.published:
        parts.append("· " + escape_mrkdwn(citation.published))
    return " ".join(parts)


def audience_line(audience: str) -> str:
    return _AUDIENCE_LINES.get(audience, _AUDIENCE_LINES["industry"])


def footer_blocks(answer: Answer, *, escalation: bool) -> list[Block]:
    """Sources, the audience context line and the buttons: the part below the answer text.

    Args:
        answer: The answer being rendered.
        escalation: Offer "Ask the outreach team" (only on a no-answer, when a channel is configured).
    """
    blocks: list[Block] = []
    if answer.citations:
        lines = "\n".join(source_line(c) for c in sorted(answer.citations, key=lambda c: c.n))
        for piece in split_text("*Sources*\n" + lines):
            blocks.append({"type": "section", "text": mrkdwn(piece)})
    blocks.append({"type": "context", "elements": [mrkdwn(f"{audience_line(answer.audience)} · ref `{answer.answer_id}`")]})
    buttons: list[Block] = []
    if escalation:
        buttons.append(_button("Ask the outreach team", ESCALATE, answer.answer_id, style="primary"))
    buttons.append(_button("Helpful", FEEDBACK_HELPFUL, answer.answer_id))
    buttons.append(_button("Not helpful", FEEDBACK_NOT_HELPFUL, answer.answer_id))
    blocks.append({"type": "actions", "block_id": f"answer_actions:{answer.answer_id}", "elements": buttons})
    return blocks


def answer_blocks(answer: Answer, *, escalation: bool = False) -> list[Block]:
    """The whole reply for `chat.postMessage`: text sections, then `footer_blocks`, within 50 blocks."""
    footer = footer_blocks(answer, escalation=escalation)
    budget = MAX_BLOCKS - len(footer)
    sections = split_text(escape_mrkdwn(answer.text)) or ["_(empty answer)_"]
    if len(sections) > budget:
        sections = sections[: budget - 1] + ["_The answer was too long for Slack and has been cut here._"]
    return [{"type": "section", "text": mrkdwn(piece)} for piece in sections] + footer


def fallback_text(answer: Answer) -> str:
    """The message `text` shown in notifications and to clients without Block Kit."""
    text = escape_mrkdwn(answer.text)
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
