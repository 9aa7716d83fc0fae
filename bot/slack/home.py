"""The App Home tab (`views.publish`): what the assistant covers, which documents the viewer's answers
come from and why, the documents most recently added or changed, and how to reach the outreach team.

Everything listed comes from the documents the viewer's audience may read, so the Home tab can never
show a restricted document's title to someone who could not get it in an answer.
"""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import Block, mrkdwn, slack_url
from bot.slack.mrkdwn import escape_mrkdwn, link

COVERAGE = ("I answer questions about the Global Coalition on Telecommunications (GCOT), its partners' telecoms "
            "security and supply-chain policies, 6G and standards work, and telecoms skills frameworks, from the "
            "coalition's documents, and I cite my sources.")
HOW_TO_ASK = ("*How to ask:* message me here in *Messages* (each message starts its own thread), or mention me in a "
              "channel I'm in. Follow-ups in a thread I answered need no mention.")
_WHY = {
    "staff": ("*Your answers:* here, from public, partner and internal documents, because you are a full member "
              "of this workspace. In a channel, answers use only what everyone in it may read: public documents "
              "when it is shared with other organisations or has guests in it, and in group DMs."),
    "industry": ("*Your answers:* from public documents only, because you are a guest, belong to another "
                 "organisation, or your account could not be checked. Ask the outreach team if you need more."),
}
RECENT_LIMIT = 5


def recent_documents(service: Any, audience: str, limit: int = RECENT_LIMIT) -> list[dict[str, Any]]:
    """The newest readable documents: `service.recent_documents` when the backend has it (store records
    with `updated_at`), otherwise the first of `service.topics(audience)` (no dates known)."""
    recent = getattr(service, "recent_documents", None)
    if callable(recent):
        return list(recent(audience, limit=limit))
    return list(service.topics(audience))[:limit]


def home_view(audience: str, documents: list[dict[str, Any]], *, escalation_channel: str | None) -> dict[str, Any]:
    """The `home` view for `views.publish`."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Coalition Assistant"}},
        {"type": "section", "text": mrkdwn(COVERAGE)},
        {"type": "section", "text": mrkdwn(HOW_TO_ASK)},
        {"type": "section", "text": mrkdwn(_WHY.get(audience, _WHY["industry"]))},
        {"type": "divider"},
        {"type": "section", "text": mrkdwn("*Recently added or changed*\n" + _document_lines(documents))},
        {"type": "divider"},
        {"type": "section", "text": mrkdwn(_outreach(escalation_channel))},
    ]
    return {"type": "home", "blocks": blocks}


def _document_lines(documents: list[dict[str, Any]]) -> str:
    if not documents:
        return "_No documents yet._"
    lines = []
    for doc in documents:
        line = "• " + link(slack_url(str(doc.get("source_url") or "")), str(doc.get("title") or doc.get("doc_id")))
        when = str(doc.get("updated_at") or doc.get("published") or "")[:10]
        if when:
            line += " · " + escape_mrkdwn(when)
        if sum(len(x) + 1 for x in lines) + len(line) > 2900:  # one section's text limit, whole lines only
            break
        lines.append(line)
    return "\n".join(lines)


def _outreach(channel: str | None) -> str:
    text = ("*Need a person?* When I can't answer, press *Ask the outreach team* under my reply and I'll pass your "
            "question on")
    if channel and channel.startswith(("C", "G")) and channel.isalnum():
        return text + f" to <#{channel}>."  # a channel link, not a mention: it notifies nobody
    return text + "."
