"""Greeting and suggested prompts for the assistant panel, drawn from the topics of the documents the
asker may read (so a prompt can never reveal a restricted document's subject)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bot.slack.mrkdwn import plain_text

GREETING = ("Hi! I answer questions about the Global Coalition on Telecommunications and its partners' "
            "telecoms policy, using the coalition's documents, and I cite my sources. What would you like to know?")

PROMPTS_TITLE = "Try asking"

# Tags too broad or too odd to make a good question on their own.
_SKIP = {"gcot", "coalition", "international", "access-control-test", "uk", "us", "canada", "australia", "japan",
         "europe"}
_LABELS = {"6g": "6G", "5g": "5G", "open-ran": "Open RAN", "supply-chain": "supply chain security"}


def channel_topics(docs: list[dict[str, Any]], channel_name: str) -> list[str]:
    """Topics of `docs` that the channel's name is about (`#6g-research` -> `6g`), most common first.

    Only topics of documents the asker may read can match, so the prompts never name anything else;
    the channel's name itself is never put in a prompt.
    """
    words = set(re.split(r"[^a-z0-9]+", channel_name.lower())) - {""}
    name = "-".join(re.split(r"[^a-z0-9]+", channel_name.lower()))
    counts = Counter(t.strip().lower() for doc in docs for t in doc.get("topics", []) if t.strip())
    return [t for t, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            if t not in _SKIP and (t in words or (("-" in t) and t in name))]


def suggested_prompts(docs: list[dict[str, Any]], *, n: int = 4, focus: list[str] = ()) -> list[dict[str, str]]:
    """Up to `n` prompts: one about the coalition itself, then `focus` topics, then the most common topics.

    Args:
        docs: `AnswerService.topics(audience)` output: `[{"doc_id", "title", "topics": [...]}]`.
        n: How many prompts. Defaults to 4 (Slack shows up to four).
        focus: Topics to offer first (e.g. `channel_topics` of the channel the user is viewing).
    """
    prompts = [{"title": "What is GCOT?", "message": "What is the Global Coalition on Telecommunications?"}]
    counts = Counter(t.strip().lower() for doc in docs for t in doc.get("topics", []) if t.strip())
    ranked = sorted(counts.items(), key=lambda item: (item[0] not in focus, -item[1], item[0]))
    for topic, _ in ranked:
        if len(prompts) >= n:
            break
        if topic in _SKIP:
            continue
        label = _LABELS.get(topic, topic.replace("-", " "))
        prompts.append({"title": plain_text(f"About {label}", 75),
                        "message": plain_text(f"What do the coalition's documents say about {label}?", 200)})
    return prompts
