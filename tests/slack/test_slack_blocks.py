import json
import re

from bot.answer import Answer, Citation
from bot.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_blocks,
    answer_messages,
    fallback_text,
    footer_blocks,
    split_text,
    stream_footer_blocks,
)
from bot.slack.home import home_view
from bot.slack.listeners.actions.feedback import vote_of
from bot.slack.streaming import SOURCES_PER_TASK, answer_metadata, source_cards

SLACK_LINK = re.compile(r"<([^<>|]+)\|([^<>|]*)>")


def make_answer(text: str, *, citations: int = 2, audience: str = "industry", status: str = "answered") -> Answer:
    cites = [Citation(n=i, doc_id=f"doc-{i}", title=f"Title {i} <!channel>", source_url=f"https://example.org/{i}",
                      published="2024-01-%02d" % i) for i in range(1, citations + 1)]
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


def test_long_answer_is_delivered_whole_across_valid_messages():
    long_text = " ".join(f"Sentence {i} says something about telecoms & security." for i in range(5000))
    messages = answer_messages(make_answer(long_text, citations=60))
    assert len(messages) > 1
    for blocks in messages:
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(t) <= SECTION_LIMIT for t in all_texts(blocks))
    text_sections = [t for m in messages for b in m if b["type"] == "section" and not b.get("block_id")
                     for t in [b["text"]["text"]]]
    assert " ".join(text_sections).split() == long_text.replace("&", "&amp;").split()  # nothing cut or lost
    assert [b["type"] for b in messages[-1][-2:]] == ["context", "actions"]
    sources = "\n".join(b["text"]["text"] for m in messages for b in m if b.get("block_id", "").startswith("sources"))
    assert all(f"*[{n}]*" in sources for n in range(1, 61))
    assert all(len(json.dumps(b)) for m in messages for b in m)


def test_split_text_never_cuts_an_entity_or_exceeds_the_limit():
    text = "&amp;" * 1000  # no whitespace at all
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and "".join(pieces) == text
    assert all(p.endswith(";") for p in pieces)


def test_footer_has_sources_context_and_buttons():
    footer = footer_blocks(make_answer("x"), escalation=False)
    assert footer[0]["text"]["text"].startswith("*Sources*") and footer[-1]["type"] == "actions"


def test_citation_links_stay_valid_whatever_the_title_or_url_holds():
    cite = Citation(n=1, doc_id="d", title="Risks | benefits > costs & more: ünïcode",
                    source_url="https://example.org/a b/ré|sumé>x.pdf?a=1&b=2")
    answer = Answer(status="answered", text="See [1].", citations=[cite], audience="staff")
    line = answer_blocks(answer)[1]["text"]["text"].splitlines()[1]
    links = SLACK_LINK.findall(line)
    assert len(links) == 1
    url, label = links[0]
    assert re.fullmatch(r"https?://[^\s<>|]+", url)
    assert url == "https://example.org/a%20b/r%C3%A9%7Csum%C3%A9%3Ex.pdf?a=1&amp;b=2"
    assert label == "Risks ¦ benefits &gt; costs &amp; more: ünïcode"
    card = source_cards(answer)[0]["sources"][0]
    assert card["url"] == "https://example.org/a%20b/r%C3%A9%7Csum%C3%A9%3Ex.pdf?a=1&b=2"
    assert card["text"].startswith("[1] Risks | benefits > costs & more")


def test_source_cards_split_long_lists_and_skip_links_that_are_not_web_urls():
    answer = make_answer("x", citations=SOURCES_PER_TASK + 3)
    answer.citations[0].source_url = "javascript:alert(1)"
    cards = source_cards(answer)
    assert [c["type"] for c in cards] == ["task_update", "task_update"]
    assert [len(c["sources"]) for c in cards] == [SOURCES_PER_TASK - 1, 3]
    assert all(s["url"].startswith("https://") for c in cards for s in c["sources"])
    no_answer = source_cards(make_answer("No.", citations=0, status="no_answer"))
    assert no_answer[0]["status"] == "complete" and "sources" not in no_answer[0]


def test_stream_footer_has_native_feedback_buttons_and_metadata_names_no_document():
    answer = make_answer("No.", status="no_answer", citations=1)
    footer = stream_footer_blocks(answer, escalation=True)
    assert [b["type"] for b in footer] == ["context", "actions", "context_actions"]
    buttons = footer[-1]["elements"][0]
    assert buttons["type"] == "feedback_buttons"
    assert vote_of({"action_id": buttons["action_id"], "value": buttons["positive_button"]["value"]}) == (
        answer.answer_id, True)
    assert vote_of({"action_id": buttons["action_id"], "value": buttons["negative_button"]["value"]}) == (
        answer.answer_id, False)
    assert footer[1]["elements"][0]["action_id"] == "escalate_to_outreach"
    assert "doc-1" not in json.dumps(answer_metadata(answer)) and "Title" not in json.dumps(answer_metadata(answer))


def test_home_view_says_why_and_lists_documents_as_links():
    docs = [{"doc_id": "a", "title": "A & <b>", "source_url": "https://example.org/a", "updated_at": "2026-11-30T10:00:00Z"}]
    view = home_view("industry", docs, escalation_channel="CESCALATE")
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "public documents only, because you are a guest" in text
    assert "<https://example.org/a|A &amp; &lt;b&gt;> · 2026-11-30" in text and "<#CESCALATE>" in text
