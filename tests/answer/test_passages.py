"""Small-to-big retrieval (bot/retrieve/passages.py): a PDF hit is read with its neighbouring chunks.

A real index of a generated multi-page PDF and a Markdown document, real model, real Chroma.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Twelve paragraphs, each about one invented project with its own facts, long enough that the
# chunker cuts the document into several chunks.
PROJECTS = [
    ("Aldermoor", "tested radio units at the northern harbour", "forty-two sites"),
    ("Brackenfold", "measured fronthaul latency across the valley", "nineteen sites"),
    ("Cindervale", "replaced core routers in three data centres", "seven sites"),
    ("Dunmarrow", "ran interoperability plugfests with five vendors", "eleven sites"),
    ("Elderwick", "trained apprentices in radio engineering", "twenty-six sites"),
    ("Fenhollow", "audited supplier firmware for signed updates", "thirty sites"),
    ("Glimmerton", "built a shared spectrum test bed", "nine sites"),
    ("Harrowgate", "moved rural masts onto solar power", "fifty-one sites"),
    ("Ivybridge", "recorded outage causes for a national report", "fourteen sites"),
    ("Juniper Reach", "piloted network slicing for ambulances", "eight sites"),
    ("Kestrelmere", "mapped undersea cable landing points", "three sites"),
    ("Larkspur", "checked emergency call routing after storms", "sixty sites"),
]


def _paragraph(name: str, work: str, size: str) -> str:
    return (
        f"The {name} project {work}. Its team reported progress to the steering group every quarter, and "
        f"the final review counted {size} in the programme. Engineers from the {name} project wrote up "
        "what went wrong as well as what worked, so that later projects could reuse the test plans, the "
        "procurement templates and the lessons on scheduling field work around the weather."
    )


def _write_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    y = height - 72
    for name, work, size in PROJECTS:
        line = ""
        words = _paragraph(name, work, size).split()
        lines = []
        for word in words:
            trial = f"{line} {word}".strip()
            if stringWidth(trial, "Helvetica", 11) > width - 144:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        for text in lines:
            if y < 72:
                pdf.showPage()
                y = height - 72
            pdf.setFont("Helvetica", 11)
            pdf.drawString(72, y, text)
            y -= 14
        y -= 12
    pdf.save()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder):
    from testkit import make_settings

    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("passages")
    docs = root / "docs"
    docs.mkdir()
    _write_pdf(docs / "projects.pdf")
    (docs / "projects.pdf.meta.yaml").write_text("title: Field projects\nvisibility: public\n")
    (docs / "notes.md").write_text(
        "---\ntitle: Site notes\nvisibility: public\n---\n# Masts\n\nThe Harrowgate masts were painted green in spring.\n\n"
        "# Cables\n\nThe Kestrelmere survey used a hired boat for two weeks.\n"
    )
    settings = make_settings(root / "data")
    result = ingest([docs], settings=settings, embedder=embedder)
    assert result["errors"] == []
    return settings


def _service(settings, embedder, **overrides):
    from bot.answer.service import AnswerService

    return AnswerService.from_settings(settings.model_copy(update=overrides), embedder=embedder)


def test_a_pdf_hit_is_read_with_its_neighbours_in_document_order(index, embedder) -> None:
    from store import open_reader

    snapshot = open_reader(index).snapshot()
    pdf_chunks = snapshot.chunks_of("projects")
    assert len(pdf_chunks) >= 5, "the fixture must span several chunks"

    hits = _service(index, embedder).retrieve("How many sites did the Glimmerton project count?", k=5)

    first = hits[0]
    assert first.doc_id == "projects" and "Glimmerton" in first.text
    order = [c.chunk_id for c in pdf_chunks]
    part_ids = [part.chunk_id for part in first.parts]
    position = order.index(first.chunk_id)
    assert part_ids == order[max(0, position - 2) : position + 3]  # two before, the match, two after
    assert next(p for p in first.parts if p.chunk_id == first.chunk_id).text in first.text
    # The chunker's overlap is not repeated where neighbours are joined.
    assert len(first.text) < sum(len(part.text) for part in first.parts) or all(
        int(b.metadata["char_start"]) >= int(a.metadata["char_end"]) for a, b in zip(first.parts, first.parts[1:])
    )
    # No chunk is read twice: a neighbour inside a better passage does not open one of its own.
    seen = [part.chunk_id for hit in hits for part in (hit.parts or [hit])]
    assert len(seen) == len(set(seen))


def test_markdown_hits_are_not_widened_and_a_zero_window_reads_chunks_alone(index, embedder) -> None:
    hits = _service(index, embedder).retrieve("What colour were the Harrowgate masts painted?", k=5)
    markdown = [hit for hit in hits if hit.doc_id == "notes"]
    assert markdown and all(hit.parts == [] for hit in markdown)

    alone = _service(index, embedder, passage_before=0, passage_after=0).retrieve("How many sites did the Glimmerton project count?", k=5)
    assert all(hit.parts == [] for hit in alone)
    assert len({hit.chunk_id for hit in alone}) == len(alone) == 5


def test_an_answer_from_a_passage_cites_the_page_of_the_part_it_quotes(index, embedder) -> None:
    answer = _service(index, embedder).ask("What did the Larkspur project check?", audience="staff")

    assert answer.status == "answered", answer.reason
    assert "checked emergency call routing after storms" in answer.text
    quoted = next(c for c in answer.citations if "emergency call routing" in c.snippet)
    assert quoted.doc_id == "projects"
    assert quoted.page and quoted.page >= 2  # the last paragraph is on a later page than the first
