"""Sentence segmentation (gcot.sentences) over every chunk of the real corpus index and every document fixture.

A quoted sentence must be a whole sentence of the source: it starts where the author's sentence
starts and ends where it ends, and carries no Markdown, front matter or index metadata.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gcot.sentences import Sentence, split_sentences

_ENDS_SENTENCE = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_MARKDOWN = re.compile(r"\*\*|__|`|\]\(|^#{1,6}\s|^\s*[-*+]\s|^\s*\d+[.)]\s|\|\s*-{3}|^>\s")
_FRONT_MATTER_KEY = re.compile(r"^(doc_id|title|doc_type|topics|visibility|published|source_url|summary_of|related_urls):", re.MULTILINE)


def problems_in(sentences) -> list[str]:
    """Every way these sentences break the rules, as readable lines (empty when all is well)."""
    found = []
    for sentence in sentences:
        words = sentence.text.split()
        first = words[0] if words else ""
        if _MARKDOWN.search(sentence.text) or "doc_id" in sentence.text or _FRONT_MATTER_KEY.search(sentence.text):
            found.append(f"markup or metadata: {sentence.text!r}")
        if sentence.kind != "paragraph":
            continue  # a list item or table row is the author's unit, whatever its punctuation
        if first[:1].islower() and first.isalpha():
            found.append(f"starts mid-sentence: {sentence.text!r}")
        if not _ENDS_SENTENCE.search(sentence.text):
            found.append(f"ends mid-sentence: {sentence.text!r}")
    return found


def problems_of(text: str) -> list[str]:
    """`problems_in` the sentences `split_sentences` finds in `text`."""
    return problems_in(split_sentences(text))


def test_wrapped_paragraphs_lists_and_tables_are_segmented_by_structure():
    text = (
        "---\ndoc_id: x\ntitle: T\n---\n# Heading\n\nThe UK law that put a stronger, legally enforceable\nduty on providers"
        " is the Act (doc_id uk-act). It is **law**.\n\n- First [item](http://x.org)\n- Second `item`\n\n"
        "| Acronym | Expansion |\n|---|---|\n| TSA | Telecommunications (Security) Act 2021 |\n"
    )
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "The UK law that put a stronger, legally enforceable duty on providers is the Act.",
        "It is law.",
        "First item",
        "Second item",
        "TSA — Telecommunications (Security) Act 2021",
    ]
    assert [s.kind for s in sentences] == ["paragraph", "paragraph", "item", "item", "row"]
    assert {s.heading for s in sentences} == {"Heading"}


def test_a_chunk_cut_inside_a_sentence_drops_the_fragments():
    text = "legally enforceable duty on providers. The Act received Royal Assent in 2021. It replaced sections"
    assert [s.text for s in split_sentences(text)] == ["The Act received Royal Assent in 2021."]


def test_abbreviations_do_not_split_a_sentence():
    text = "The Act is chapter c. 31, so it is cited as c. 31. Act No. 93 of 2022 allowed a permanent fund."
    assert [s.text for s in split_sentences(text)] == [
        "The Act is chapter c. 31, so it is cited as c. 31.", "Act No. 93 of 2022 allowed a permanent fund.",
    ]


def test_no_fragment_in_any_chunk_of_the_corpus_index(corpus_index):
    from store import open_reader

    snapshot = open_reader(corpus_index).snapshot()
    chunks = [chunk for document in snapshot.documents() for chunk in snapshot.chunks_of(document.doc_id)]
    assert len(chunks) > 300
    problems = [f"{chunk.chunk_id}: {problem}" for chunk in chunks for problem in problems_of(chunk.text)]
    assert problems == [], "\n".join(problems[:40])


def test_the_checker_catches_fragments_markup_and_metadata():
    """The checker itself must fail on broken input, or the fixture and corpus tests prove nothing."""
    broken = [
        Sentence("legally enforceable duty on providers.", 0, "paragraph", "", 0),  # starts mid-sentence
        Sentence("The UK law that put a stronger", 1, "paragraph", "", 1),  # ends mid-sentence
        Sentence("It is **law**.", 2, "paragraph", "", 2),
        Sentence("See (doc_id uk-act) for details.", 3, "paragraph", "", 3),
        Sentence("title: The Act", 4, "item", "", 4),
        Sentence("The Act received Royal Assent in 2021.", 5, "paragraph", "", 5),  # the only good one
        Sentence("a list item needs no full stop", 6, "item", "", 6),  # nor this: items are the author's unit
    ]
    found = problems_in(broken)
    assert [line.split(":")[0] for line in found] == [
        "starts mid-sentence", "ends mid-sentence", "markup or metadata", "markup or metadata", "markup or metadata",
    ]
    assert not_authored(broken[5:6], {"The Act received Royal Assent in 2021."}) == []
    assert not_authored(broken[:2], {"The UK law that put a stronger duty on providers."}) != []


# --- PDF, DOCX and HTML fixtures, written here at test time ------------------------------------------

# Prose the fixtures are made of: every extracted paragraph sentence must be one of these, whole.
_PARAGRAPHS = [
    ("The coalition funds open interfaces between radio units and the software that runs them. Members agreed "
    "that every pilot network publishes its test results within six months, and that the shared laboratory "
    "keeps the test equipment calibrated for all members alike."),
    ("This report covers the pilot networks built between 2024 and 2026 in the partner countries. It does not "
    "cover spectrum auctions, which a separate working group reviews each year."),
    ("Operators that join after the first year follow the same rules, but they may ask the steering group for "
    "a longer reporting period when their networks are smaller than five hundred sites."),
    ("The laboratory tested forty radio units from nine vendors and published every failure with the vendor's "
    "reply beside it. Most failures were fixed within one release, and the rest were listed as known issues "
    "for the next interoperability event."),
]
_HEADINGS = [("1 Introduction", 1), ("1.1 Scope", 2), ("2 Membership", 1), ("3 Results", 1)]
_RUNNING_HEADER = "Open RAN Coalition - Pilot Report 2026 (draft)"
_AUTHORED = {piece.text for paragraph in _PARAGRAPHS for piece in split_sentences(paragraph)}


def not_authored(sentences, authored: set[str]) -> list[str]:
    """Paragraph sentences that are not one of the authored sentences, whole (a fragment, a merge, a header)."""
    return [f"not an authored sentence: {s.text!r}" for s in sentences if s.kind == "paragraph" and s.text not in authored]


def _write_pdf(path: Path) -> Path:
    """Three pages: wrapped paragraphs, one word hyphenated across a line end, a running header and page numbers."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    pdf, (_, height) = canvas.Canvas(str(path), pagesize=A4), A4
    state = {"page": 1, "y": 0.0}

    def furniture() -> None:
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, height - 40, _RUNNING_HEADER)
        pdf.drawString(72, 30, f"Page {state['page']} of 3")
        state["y"] = height - 90

    def wrap(text: str, hyphenate: str) -> list[str]:
        lines, line = [], ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if stringWidth(trial, "Helvetica", 11) <= 300:
                line = trial
            elif word == hyphenate:  # the word breaks across the line end: "inter-" / "faces"
                lines.append(f"{line} {word[: len(word) // 2]}-")
                line = word[len(word) // 2 :]
            else:
                lines.append(line)
                line = word
        return [*lines, line]

    furniture()
    for number, ((heading, level), paragraph) in enumerate(zip(_HEADINGS, _PARAGRAPHS, strict=True)):
        if number >= 2:  # one section a page from here: the header and footer repeat on three pages
            pdf.showPage()
            state["page"] += 1
            furniture()
        pdf.setFont("Helvetica-Bold", 16 if level == 1 else 13)
        pdf.drawString(72, state["y"], heading)
        state["y"] -= 26
        pdf.setFont("Helvetica", 11)
        for line in wrap(paragraph, hyphenate="interfaces"):
            pdf.drawString(72, state["y"], line)
            state["y"] -= 14
        state["y"] -= 10
    pdf.save()
    return path


def _write_docx(path: Path) -> Path:
    """Heading styles, and paragraphs whose lines are broken by hand (a soft line break mid-sentence)."""
    import docx

    document = docx.Document()
    document.add_heading("Pilot report", level=0)
    for (heading, level), paragraph in zip(_HEADINGS, _PARAGRAPHS, strict=True):
        document.add_heading(heading, level=level)
        words = paragraph.split()
        run = document.add_paragraph().add_run(" ".join(words[:9]))
        run.add_break()  # a line break inside the first sentence, as a wrapped paragraph pasted into Word
        run.add_text(" ".join(words[9:]))
    document.save(str(path))
    return path


def _write_html(path: Path) -> Path:
    """h1/h2 headings, paragraphs wrapped over several source lines, a nav bar and a footer."""
    body = []
    for (heading, level), paragraph in zip(_HEADINGS, _PARAGRAPHS, strict=True):
        words = paragraph.split()
        wrapped = "\n    ".join(" ".join(words[i : i + 8]) for i in range(0, len(words), 8))
        body.append(f"<h{level}>{heading}</h{level}>\n<p>{wrapped}</p>")
    path.write_text(
        "<!doctype html><html><head><title>Pilot report</title></head><body>\n"
        "<nav><a href='/'>Home</a> | <a href='/news'>News</a></nav>\n<main><article>\n"
        + "\n".join(body)
        + "\n</article></main>\n<footer>Copyright 2026 Open RAN Coalition</footer></body></html>\n",
        encoding="utf-8",
    )
    return path


_WRITERS = {"pdf": _write_pdf, "docx": _write_docx, "html": _write_html}


@pytest.fixture(scope="module")
def chunker():
    from gcot.settings import Settings
    from ingest.chunking import Chunker, TokenCounter

    settings = Settings(_env_file=None)
    # Small chunks, so chunk boundaries fall inside paragraphs and the fragment rule is exercised too.
    return Chunker(TokenCounter(settings.model_path()), max_tokens=40, overlap_tokens=8)


@pytest.mark.parametrize("suffix", ["docx", "html", "pdf"])
def test_no_fragment_in_document_fixtures(suffix: str, tmp_path: Path, chunker) -> None:
    from ingest.loaders import load_document

    path = _WRITERS[suffix](tmp_path / f"report.{suffix}")
    document = load_document(path, tmp_path)
    whole = split_sentences(document.text)
    assert {s.text for s in whole if s.kind == "paragraph"} == _AUTHORED  # nothing lost, nothing cut
    assert problems_in(whole) == []
    chunks = chunker.split(document, content_hash="0" * 16)
    assert len(chunks) > len(_PARAGRAPHS)  # the small budget cut paragraphs into several chunks
    problems = [f"{c.chunk_id}: {p}" for c in chunks for s in [split_sentences(c.text)] for p in problems_in(s) + not_authored(s, _AUTHORED)]
    assert problems == [], "\n".join(problems)
    text = "\n".join(c.text for c in chunks)
    assert _RUNNING_HEADER not in text and "Page 1 of 3" not in text and "Copyright" not in text


def test_sentences_are_located_in_the_markdown_they_came_from():
    from gcot.sentences import locate_sentences

    text = ("# Title\n\nThe **Telecoms Security Act**\nwas passed in [2021](https://example.org). It is law.\n\n"
            "- Vendors must report.\n\n| Country | Year |\n|---|---|\n| Japan | 2023 |\n")
    sentences = [sentence.text for sentence in split_sentences(text)]

    spans = locate_sentences(text, [*sentences, "Nothing here matches at all."])

    located = [text[start:end] for start, end in spans[:-1]]
    assert located == ["The **Telecoms Security Act**\nwas passed in [2021", "It is law", "Vendors must report", "Japan | 2023"]
    assert spans[-1] is None
