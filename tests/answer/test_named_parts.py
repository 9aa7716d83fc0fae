"""A numbered part the question names ("Recital 7") is read first when only a few chunks carry it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.retrieve.identifiers import labelled_by, named_parts

PURPOSE = ("The purpose of this regulation is to make the single market work for trustworthy systems, and the "
           "regulation sets out that purpose in every part so that the purpose of the regulation stays clear.")


def test_named_parts_are_written_as_documents_write_them() -> None:
    assert named_parts("what does amendment 22 change, and is Annex iii affected? see recital 9A") == [
        "Amendment 22", "Annex III", "Recital 9a"]
    assert named_parts("How many partners does GCOT have in 2025?") == []


def test_a_label_is_matched_whole() -> None:
    assert labelled_by("Recital 1", "As Recital 1. says") and labelled_by("Article 5", "under article 5 (new)")
    assert not labelled_by("Recital 1", "Recital 12 says") and not labelled_by("Section 2", "Section 2.1 says")


@pytest.fixture(scope="module")
def recitals(tmp_path_factory: pytest.TempPathFactory, embedder):
    """A regulation in ten recitals: recital 7 alone is not about the regulation's purpose; Article 9 is cited in six."""
    from ingest.pipeline import ingest
    from testkit import make_settings

    root = tmp_path_factory.mktemp("named-parts")
    docs = root / "docs"
    docs.mkdir()
    sections = []
    for number in range(1, 11):
        body = ("Recital 7. Providers keep their system logs for ten years and hand them to the market authority "
                "on request." if number == 7 else f"Recital {number}. {PURPOSE}")
        if number in (1, 2, 3, 4, 5, 6):
            body += " Article 9 applies."
        sections.append(f"## Part {number}\n\n{body}\n")
    (docs / "regulation.md").write_text("---\ntitle: Example regulation\nvisibility: public\n---\n\n# Example regulation\n\n"
                                        + "\n".join(sections), encoding="utf-8")
    settings = make_settings(root / "data")
    assert ingest([docs], settings=settings, embedder=embedder)["errors"] == []
    return settings


def _first_text(settings, embedder, question: str, **overrides) -> str:
    from bot.answer.service import AnswerService

    service = AnswerService.from_settings(settings.model_copy(update=overrides), embedder=embedder)
    return service.retrieve(question, audience="staff", k=4)[0].text


def test_the_named_recital_is_read_first(recitals, embedder) -> None:
    question = "What is the purpose of Recital 7 of the regulation?"
    assert "Recital 7." not in _first_text(recitals, embedder, question, identifier_max_chunks=0)  # ranking alone misses it
    assert _first_text(recitals, embedder, question).startswith("Recital 7.")


def test_a_part_cited_in_many_chunks_leaves_the_ranking_alone(recitals, embedder) -> None:
    question = "What is the purpose of the regulation under Article 9?"
    assert _first_text(recitals, embedder, question) == _first_text(recitals, embedder, question, identifier_max_chunks=0)
