"""Greeting and suggested prompts for the assistant panel, drawn from the topics of the documents the
asker may read (so a prompt can never reveal a restricted document's subject)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.slack.mrkdwn import plain_text

GREETING = ("Hi! I answer questions about the Global Coalition on Telecommunications and its partners' "
            "telecoms policy, using the coalition's documents, and I cite my sources. What would you like to know?")

# Tags too broad or too odd to make a good question on their own.
_SKIP = {"gcot", "coalition", "international", "access-control-test", "uk", "us", "canada", "australia", "japan",
         "europe"}
_LABELS = {"6g": "6G", "5g": "5G", "open-ran": "Open RAN", "supply-chain": "supply chain security"}


def suggested_prompts(docs: list[dict[str, Any]], *, n: int = 4) -> list[dict[str, str]]:
    """Up to `n` prompts: one about the coalition itself, then the most common topics.

    Args:
        docs: `AnswerService.topics(audience)` output: `[{"doc_id", "title", "topics": [...]}]`.
        n: How many prompts. Defaults to 4 (Slack shows up to four).
    """
    prompts = [{"title": "What is GCOT?", "message": "What is the Global Coalition on Telecommunications?"}]
    counts = Counter(t.strip().lower() for doc in docs for t in doc.get("topics", []) if t.strip())
    for topic, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if len(prompts) >= n:
            break
        if topic in _SKIP:
            continue
        label = _LABELS.get(topic, topic.replace("-", " "))
        prompts.append({"title": plain_text(f"About {label}", 75),
                        "message": plain_text(f"What do the coalition's documents say about {label}?", 200)})
    return prompts
