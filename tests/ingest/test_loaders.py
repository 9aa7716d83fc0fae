"""Each loader on a real file of its format, and where document metadata comes from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ingest_helpers import IndexView, markdown, write_docx, write_pdf

from ingest.loaders import LoadError, load_document
from ingest.metadata import default_doc_id
from ingest.pipeline import ingest

# --- formats -------------------------------------------------------------------------------------


def test_markdown_front_matter_and_heading_paths(tmp_path: Path) -> None:
    body = (
        "# Spectrum Policy\n\nIntro paragraph about spectrum.\n\n"
        "## Auctions\n\nAuction rules text.\n\n"
        "```\n# not a heading, inside a code fence\n```\n\n"
        "### Reserve prices\n\nReserve price text.\n\n"
        "## Sharing\n\nSharing text.\n"
    )
    path = tmp_path / "spectrum.md"
    path.write_text(markdown(
        body, doc_id="spectrum-policy", title="Spectrum policy 2024", doc_type="policy", visibility="partners",
        topics=["spectrum", "auctions"], published="2024-03-01", source_url="https://example.org/spectrum",
    ))

    document = load_document(path, tmp_path)

    meta = document.meta
    assert (meta.doc_id, meta.title, meta.doc_type, meta.visibility) == (
        "spectrum-policy", "Spectrum policy 2024", "policy", "partners")
    assert meta.topics == ["spectrum", "auctions"]
    assert meta.published == dt.date(2024, 3, 1)
    assert meta.source_url == "https://example.org/spectrum"
    paths = [section.heading_path for section in document.sections]
    assert paths == [
        ("Spectrum Policy",),
        ("Spectrum Policy", "Auctions"),
        ("Spectrum Policy", "Auctions", "Reserve prices"),
        ("Spectrum Policy", "Sharing"),
    ]
    assert "# not a heading, inside a code fence" in document.sections[1].text
    assert "doc_id" not in document.text  # front matter is metadata, not content


def test_markdown_without_front_matter_takes_title_from_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "notes" / "Open RAN Notes.md"
    path.parent.mkdir()
    path.write_text("Preamble line.\n\n# Open RAN interoperability\n\nBody text.\n")

    meta = load_document(path, tmp_path).meta

    assert meta.title == "Open RAN interoperability"
    assert meta.doc_id == "notes-open-ran-notes"
    # No metadata states a visibility: it stays unset, and the ingest job applies the fail-closed default.
    assert (meta.visibility, meta.doc_type) == (None, "guidance")


def test_text_file_splits_on_blank_runs(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("First block, line one.\nLine two.\n\n\nSecond block.\n\n\n\nThird block.\n")

    document = load_document(path, tmp_path)

    assert [section.text for section in document.sections] == [
        "First block, line one.\nLine two.", "Second block.", "Third block.",
    ]
    assert (document.meta.doc_id, document.meta.title) == ("plain", "plain")


def test_html_keeps_main_content_and_drops_navigation(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Vendor diversity page</title></head><body>"
        "<nav><ul><li><a href='/'>NavHomeLink</a></li><li><a href='/contact'>NavContactLink</a></li>"
        "<li><a href='/jobs'>NavCareersLink</a></li></ul></nav>"
        "<main><article><h1>Telecoms supply chain diversification</h1>"
        "<p>The programme funds open and interoperable network equipment so that operators can buy from "
        "more than a handful of vendors, and it pays for test laboratories where kit from different "
        "suppliers is checked for interoperability before deployment.</p>"
        "<p>A second paragraph explains that grants are awarded in rounds, each with published criteria, "
        "and that results are reported to Parliament every year.</p>"
        "</article></main><footer>FooterLegalNotice 2024</footer></body></html>",
        encoding="utf-8",
    )

    document = load_document(path, tmp_path)

    text = document.text
    assert "test laboratories where kit from different suppliers" in text
    assert "grants are awarded in rounds" in text
    for boilerplate in ("NavHomeLink", "NavContactLink", "NavCareersLink", "FooterLegalNotice"):
        assert boilerplate not in text
    assert document.meta.title in {"Telecoms supply chain diversification", "Vendor diversity page"}


def test_pdf_keeps_page_numbers_and_skips_blank_pages(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "report.pdf",
        ["Page one is about spectrum auctions.", "", "Page three covers vendor diversity grants."],
        title="Annual telecoms report",
    )

    document = load_document(path, tmp_path)

    # Sections follow headings (none here), not pages; the page map gives each paragraph its page.
    [section] = document.sections
    assert section.text == "Page one is about spectrum auctions.\n\nPage three covers vendor diversity grants."
    assert section.page_at(0) == 1
    assert section.page_at(section.text.index("Page three")) == 3
    assert document.meta.title == "Annual telecoms report"
    assert document.meta.doc_id == "report"


def test_docx_headings_become_heading_paths(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "guide.docx", [
        ("title", "Security Guide"),
        ("h1", "Scope"), ("p", "Scope paragraph."),
        ("h2", "Exclusions"), ("p", "Exclusions paragraph."),
        ("h1", "Duties"), ("p", "Duties paragraph."),
        ("table", "Duty|Owner;Patch|Operator"),
    ])

    document = load_document(path, tmp_path)

    assert [(section.heading_path, section.text) for section in document.sections] == [
        (("Security Guide", "Scope"), "Scope paragraph."),
        (("Security Guide", "Scope", "Exclusions"), "Exclusions paragraph."),
        (("Security Guide", "Duties"), "Duties paragraph.\n\nDuty | Owner\nPatch | Operator"),
    ]
    assert document.meta.title == "Security Guide"


def test_docx_custom_heading_styles_use_their_outline_level(tmp_path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    section_style = document.styles.add_style("Policy Section", WD_STYLE_TYPE.PARAGRAPH)
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "0")  # Word's outline level 1, as a custom or translated heading style sets it
    section_style.element.get_or_add_pPr().append(outline)
    document.add_paragraph("Title", style="Title")
    document.add_paragraph("Roaming charges", style="Policy Section")
    document.add_paragraph("Operators publish roaming charges every quarter.")
    document.add_heading("Exceptions", level=2)
    document.add_paragraph("Emergency calls are never charged.")
    path = tmp_path / "custom.docx"
    document.save(path)

    sections = load_document(path, tmp_path).sections

    assert [(section.heading_path, section.text) for section in sections] == [
        (("Title", "Roaming charges"), "Operators publish roaming charges every quarter."),
        (("Title", "Roaming charges", "Exceptions"), "Emergency calls are never charged."),
    ]


def test_loader_refuses_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"not really a spreadsheet")
    with pytest.raises(LoadError, match="unsupported file type '.xlsx'"):
        load_document(path, tmp_path)


# --- metadata sources ----------------------------------------------------------------------------


def test_default_doc_id_is_a_slug_of_the_relative_path(tmp_path: Path) -> None:
    assert default_doc_id(tmp_path / "policy" / "uk" / "TSA 2021.pdf", tmp_path) == "policy-uk-tsa-2021"
    assert default_doc_id(tmp_path / "FAQ" / "Q&A  notes.v2.md", tmp_path) == "faq-q-a-notes-v2"


def test_folder_defaults_nest_and_front_matter_overrides_them(tmp_path: Path) -> None:
    (tmp_path / "_meta.yaml").write_text("visibility: partners\npublisher: Coalition secretariat\ndoc_id: ignored\n")
    inner = tmp_path / "internal"
    inner.mkdir()
    (inner / "_meta.yaml").write_text("visibility: internal\ndoc_type: policy\n")
    (inner / "a.md").write_text("# A\n\nText A.\n")
    (inner / "b.md").write_text(markdown("# B\n\nText B.\n", visibility="public"))
    (tmp_path / "c.md").write_text("# C\n\nText C.\n")

    a = load_document(inner / "a.md", tmp_path).meta
    b = load_document(inner / "b.md", tmp_path).meta
    c = load_document(tmp_path / "c.md", tmp_path).meta

    assert (a.visibility, a.doc_type, a.publisher, a.doc_id) == ("internal", "policy", "Coalition secretariat", "internal-a")
    assert (b.visibility, b.doc_type) == ("public", "policy")
    assert (c.visibility, c.doc_type, c.doc_id) == ("partners", "guidance", "c")


def test_sidecar_overrides_front_matter_and_gives_binary_files_metadata(tmp_path: Path) -> None:
    (tmp_path / "_meta.yaml").write_text("visibility: partners\n")
    md = tmp_path / "note.md"
    md.write_text(markdown("# Note\n\nText.\n", doc_id="note-from-front-matter", visibility="public", title="FM title"))
    (tmp_path / "note.md.meta.yaml").write_text("doc_id: note-from-sidecar\nvisibility: internal\n")
    pdf = write_pdf(tmp_path / "scan.pdf", ["Some scanned text."])
    (tmp_path / "scan.pdf.meta.yaml").write_text(
        "doc_id: uk-tsa-guidance\ntitle: TSA guidance\ndoc_type: standard\npublished: 2023-05-01\ntopics: [security]\n"
    )

    note = load_document(md, tmp_path).meta
    scan = load_document(pdf, tmp_path).meta

    assert (note.doc_id, note.visibility, note.title) == ("note-from-sidecar", "internal", "FM title")
    assert (scan.doc_id, scan.title, scan.doc_type, scan.visibility) == (
        "uk-tsa-guidance", "TSA guidance", "standard", "partners")
    assert scan.published == dt.date(2023, 5, 1)
    assert scan.topics == ["security"]


def test_misspelt_visibility_key_is_an_error_not_a_public_document(tmp_path: Path) -> None:
    path = tmp_path / "typo.md"
    path.write_text(markdown("# Typo\n\nSecret-ish text.\n", visiblity="internal"))
    with pytest.raises(LoadError, match="visiblity: unknown key, did you mean 'visibility'"):
        load_document(path, tmp_path)
    other = tmp_path / "extra.md"
    other.write_text(markdown("# Extra\n\nText.\n", author="Someone", tags=["x"]))
    assert load_document(other, tmp_path).meta.visibility is None  # other unknown keys are ignored


# --- through the pipeline --------------------------------------------------------------------------


def test_every_format_reaches_the_index_with_its_metadata(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    (docs / "restricted").mkdir(parents=True)
    # Documents without metadata are internal unless their folder says otherwise (fail closed, issue 12).
    (docs / "_meta.yaml").write_text("visibility: public\n")
    (docs / "restricted" / "_meta.yaml").write_text("visibility: internal\n")
    (docs / "restricted" / "memo.md").write_text("# Memo\n\n## Budget\n\nThe memo budget line is seventeen units.\n")
    write_pdf(docs / "report.pdf", ["Report page one: spectrum.", "Report page two: fibre rollout targets."])
    write_docx(docs / "guide.docx", [("title", "Guide"), ("h1", "Duties"), ("p", "Operators must patch quickly.")])
    (docs / "page.html").write_text(
        "<html><body><nav>NavOnlyText</nav><article><h1>Page</h1><p>" + "Main article sentence about "
        "network resilience and supply chains. " * 8 + "</p></article></body></html>"
    )
    (docs / "plain.txt").write_text("Plain text about satellite backhaul.\n")
    settings = settings_factory()

    result = ingest([docs], settings=settings, embedder=embedder)

    assert result["errors"] == []
    assert (result["documents_seen"], result["added"], result["failed"]) == (5, 5, 0)
    chunks = list(IndexView(settings).chunks().values())
    by_doc: dict[str, list[dict]] = {}
    for _text, meta in chunks:
        by_doc.setdefault(meta["doc_id"], []).append(meta)
    assert set(by_doc) == {"restricted-memo", "report", "guide", "page", "plain"}
    assert {meta["visibility"] for meta in by_doc["restricted-memo"]} == {"internal"}
    assert {meta["heading"] for meta in by_doc["restricted-memo"]} == {"Memo > Budget"}
    # PDF sections now follow headings, not pages: two one-line pages under no heading are one
    # section and one chunk, cited at the page it starts on (per-chunk pages: tests/ingest/test_pdf.py).
    assert sorted(meta["page"] for meta in by_doc["report"]) == [1]
    report_text = next(text for text, meta in chunks if meta["doc_id"] == "report")
    assert "spectrum" in report_text and "fibre rollout targets" in report_text
    assert by_doc["guide"][0]["heading"] == "Guide > Duties"
    assert all(meta["visibility"] == "public" for doc in ("report", "guide", "page", "plain") for meta in by_doc[doc])
    assert not any("NavOnlyText" in text for text, _ in chunks)


def test_every_chunk_of_the_corpus_points_at_its_own_text() -> None:
    """Markdown sections long enough to be cut with an overlap get the same offsets as PDF ones."""
    from gcot.settings import Settings
    from ingest.chunking import Chunker, TokenCounter
    from testkit import CORPUS_DIR, assert_chunk_offsets

    settings = Settings(_env_file=None)
    chunker = Chunker(TokenCounter(settings.model_path()), max_tokens=settings.chunk_max_tokens,
                      overlap_tokens=settings.chunk_overlap_tokens)
    paths = sorted(CORPUS_DIR.rglob("*.md"))
    assert paths
    for path in paths:
        document = load_document(path, CORPUS_DIR)
        assert_chunk_offsets(document, chunker.split(document, content_hash="0" * 16))


def test_a_list_lead_in_stays_with_its_list(tmp_path: Path) -> None:
    """A sentence announcing a list ("... covers five areas:") is never a chunk of its own.

    The lead-in is followed by a list too long to share a chunk with it, so the splitter cuts right
    after the colon; the chunk the answer quotes from must hold the lead-in and the list's first items.
    """
    from gcot.settings import Settings
    from ingest.chunking import Chunker, TokenCounter
    from testkit import CORPUS_DIR, assert_chunk_offsets

    items = "\n".join(f"- **Area {n}**: {'policy and funding programmes of the partner countries ' * 5}item {n}." for n in range(1, 6))
    path = tmp_path / "scope.md"
    path.write_text(markdown(f"# Scope\n\n## Areas\n\nThe assistant covers five areas:\n\n{items}\n", doc_id="scope", title="Scope"))
    settings = Settings(_env_file=None)
    chunker = Chunker(TokenCounter(settings.model_path()), max_tokens=settings.chunk_max_tokens,
                      overlap_tokens=settings.chunk_overlap_tokens)
    document = load_document(path, tmp_path)
    chunks = chunker.split(document, content_hash="0" * 16)
    assert len(chunks) >= 2, [c.text for c in chunks]  # the list does not fit one chunk
    assert not any(chunk.text.rstrip().endswith(":") for chunk in chunks), [c.text for c in chunks]
    lead = next(chunk for chunk in chunks if "covers five areas:" in chunk.text)
    assert "Area 1" in lead.text, lead.text
    assert all(TokenCounter(settings.model_path()).count(chunk.text) <= chunker.counter.window for chunk in chunks)
    assert_chunk_offsets(document, chunks)
    corpus_chunks = [chunk for p in sorted(CORPUS_DIR.rglob("*.md")) for chunk in chunker.split(load_document(p, CORPUS_DIR), content_hash="0" * 16)]
    assert not [chunk.chunk_id for chunk in corpus_chunks if chunk.text.rstrip().endswith(":")]
