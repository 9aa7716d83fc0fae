"""The starter corpus: valid front matter, every sheet fact carried, ingestible with no errors."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import frontmatter
import pytest
import yaml

from ingest.metadata import DocumentMeta

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
FACT_SHEET = ROOT.parent / "shared" / "corpus-facts.md"
COVERAGE_FILES = sorted((ROOT / "tests" / "data" / "fact_coverage").glob("*.yaml"))
REQUIRED = ("doc_id", "title", "doc_type", "topics", "visibility", "published", "source_url", "summary_of")

DOCUMENTS = sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")


def _load(path: Path) -> frontmatter.Post:
    return frontmatter.load(path)


def _coverage() -> list[dict]:
    return [entry for path in COVERAGE_FILES for entry in yaml.safe_load(path.read_text())]


def _sheet_facts() -> list[str]:
    """Fact lines of sections "Extra facts" to 11 of the sheet, without their source tags."""
    facts, in_facts = [], False
    for line in FACT_SHEET.read_text(encoding="utf-8").splitlines():
        if line.startswith("Extra facts") or re.match(r"## (\d+)\.", line):
            number = re.match(r"## (\d+)\.", line)
            in_facts = not number or int(number.group(1)) <= 11
        elif line.startswith("## "):
            in_facts = False
        elif in_facts and line.startswith("- "):
            facts.append(line[2:])
        elif in_facts and line.startswith("  ") and facts:
            facts[-1] += " " + line.strip()  # a fact wrapped onto the next line
    return [_normalise(fact) for fact in facts]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*\[source:[^\]]*\]", "", text)).strip().rstrip(".").lower()


def test_corpus_has_at_least_forty_documents() -> None:
    assert len(DOCUMENTS) >= 40


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_front_matter_is_complete_and_valid(path: Path) -> None:
    meta = _load(path).metadata
    missing = [field for field in REQUIRED if field not in meta or meta[field] in (None, "", [])]
    assert not missing, f"{path}: missing {missing}"
    DocumentMeta.model_validate(meta)  # types and allowed values
    assert meta["visibility"] == "public", "restricted documents belong in tests/fixtures, never in corpus/"
    for url in [meta["source_url"], *meta.get("related_urls", [])]:
        parsed = urlparse(url)
        assert parsed.scheme in {"http", "https"} and "." in parsed.netloc and " " not in url, f"{path}: {url!r}"


def test_doc_ids_are_unique() -> None:
    ids = [_load(path).metadata["doc_id"] for path in DOCUMENTS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_readme_lists_every_document() -> None:
    readme = (CORPUS / "README.md").read_text()
    assert [doc for doc in (_load(p).metadata["doc_id"] for p in DOCUMENTS) if f"`{doc}`" not in readme] == []


def test_known_wrong_dollar_conversion_is_never_repeated() -> None:
    assert not [p for p in DOCUMENTS if "8.52" in p.read_text()]


@pytest.mark.skipif(not FACT_SHEET.is_file(), reason="needs ../shared/corpus-facts.md beside the project")
def test_every_sheet_fact_has_a_coverage_entry() -> None:
    covered = {_normalise(entry["fact"]) for entry in _coverage()}
    facts = _sheet_facts()
    assert len(facts) > 150
    assert [fact for fact in facts if fact not in covered] == []


def test_coverage_keys_appear_in_their_documents() -> None:
    texts = {_load(p).metadata["doc_id"]: p.read_text(encoding="utf-8").lower() for p in DOCUMENTS}
    problems = []
    for entry in _coverage():
        if entry.get("doc_id") is None:
            assert entry.get("omitted"), f"a fact left out needs a reason: {entry['fact']}"
            continue
        text = texts.get(entry["doc_id"])
        if text is None:
            problems.append(f"unknown doc_id {entry['doc_id']}")
            continue
        assert entry["keys"], f"no key strings for {entry['fact']}"
        problems += [f"{entry['doc_id']}: {key!r}" for key in entry["keys"] if key.lower() not in text]
    assert problems == []


def test_not_verified_lines_are_left_out() -> None:
    not_verified = [e for e in _coverage() if "not verified" in e["fact"].lower()]
    assert not_verified and all(e.get("doc_id") is None for e in not_verified)


def test_corpus_ingests_with_no_errors(corpus_index) -> None:
    """`corpus_index` ingests corpus/ (plus the restricted fixtures) and fails on any error."""
    from store import open_reader

    snapshot = open_reader(corpus_index).snapshot()
    indexed = {meta["doc_id"] for meta in snapshot.metadatas()}
    assert {_load(p).metadata["doc_id"] for p in DOCUMENTS} <= indexed
    # Every corpus document states its visibility, and is indexed at exactly that one (none took
    # the fail-closed default).
    records = {record.doc_id: record for record in snapshot.documents()}
    for path in DOCUMENTS:
        front = _load(path).metadata
        assert front.get("visibility"), f"{path} states no visibility"
        record = records[front["doc_id"]]
        assert (record.visibility, record.visibility_from) == (front["visibility"], "front matter"), path
