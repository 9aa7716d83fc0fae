import json

from bot.answer import Answer, Citation
from bot.slack.blocks import MAX_BLOCKS, SECTION_LIMIT, answer_blocks, fallback_text, footer_blocks, split_text


def make_answer(text: str, *, citations: int = 2, audience: str = "industry", status: str = "answered") -> Answer:
    cites = [Citation(n=i, doc_id=f"doc-{i}", title=f"Title {i} <!channel>", source_url=f"https://example.org/{i}",
                      published="2024-01-0%d" % i) for i in range(1, citations + 1)]
    return Answer(status=status, text=text, citations=cites, audience=audience, question="q")


def all_texts(blocks):
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_answer_has_sections_sources_context_and_feedback_buttons():
    blocks = answer_blocks(make_answer("The coalition launched in 2023 [1]."))
    assert [b["type"] for b in blocks] == ["section", "section", "context", "actions"]
    sources = blocks[1]["text"]["text"]
    assert sources.splitlines()[1] == "*[1]* <https://example.org/1|Title 1 &lt;!channel&gt;> · 2024-01-01"
    assert blocks[2]["elements"][0]["text"].startswith("Answered from public documents")
    assert [e["action_id"] for e in blocks[3]["elements"]] == ["feedback_helpful", "feedback_not_helpful"]
    assert all(b["text"]["verbatim"] for b in blocks if b["type"] == "section")


def test_staff_context_line_and_escalation_button():
    blocks = answer_blocks(make_answer("No.", status="no_answer", audience="staff", citations=0), escalation=True)
    assert blocks[-2]["elements"][0]["text"].startswith("Answered for staff")
    assert blocks[-1]["elements"][0]["action_id"] == "escalate_to_outreach"


def test_document_text_cannot_ping_anyone():
    answer = make_answer("Quoted: <!channel> <!here> <@U0123> @here & @everyone")
    rendered = json.dumps(answer_blocks(answer)) + fallback_text(answer)
    for token in ("<!channel>", "<!here>", "<@U0123>", "@here", "@everyone"):
        assert token not in rendered


def test_long_answers_respect_section_and_block_limits():
    long_text = " ".join(f"Sentence {i} says something about telecoms & security." for i in range(5000))
    blocks = answer_blocks(make_answer(long_text, citations=8))
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_LIMIT for t in all_texts(blocks))
    assert "cut here" in all_texts(blocks)[-2 - 0] or any("cut here" in t for t in all_texts(blocks))
    assert blocks[-1]["type"] == "actions"
    assert len(fallback_text(make_answer(long_text))) <= 3002


def test_split_text_never_cuts_an_entity_or_exceeds_the_limit():
    text = "&amp;" * 1000  # no whitespace at all
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and "".join(pieces) == text
    assert all(p.endswith(";") for p in pieces)


def test_footer_only_for_streams():
    footer = footer_blocks(make_answer("x"), escalation=False)
    assert footer[0]["text"]["text"].startswith("*Sources*") and footer[-1]["type"] == "actions"
