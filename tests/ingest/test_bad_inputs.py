"""Bad files: each is reported with its path and a specific reason, the run goes on, and what was
already indexed stays intact. `--strict` refuses the whole run and writes nothing."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from ingest_helpers import IndexView, dump_index, markdown, run_cli, write_docx, write_pdf

from ingest.pipeline import StrictModeError, ingest

MAX_BYTES = 100_000

# file name -> a pattern its error must match
EXPECTED_REASONS = {
    "corrupt.pdf": r"^corrupt or unreadable PDF",
    "encrypted.pdf": r"^encrypted PDF: a password is needed",
    "corrupt.docx": r"^corrupt or unreadable DOCX: File is not a zip file",
    "broken-xml.docx": r"^corrupt or unreadable DOCX",
    "empty.md": r"^empty file$",
    "blank.txt": r"^empty file$",
    "junk.txt": r"^binary content in a text file \(NUL bytes found\)",
    "junk.md": r"^not valid UTF-8 \(byte 0x[0-9a-f]{2} at offset 0\)",
    "controls.txt": r"^binary content in a text file \(control characters\)",
    "latin1.md": r"^not valid UTF-8 \(byte 0xe9 at offset \d+\); re-save the file as UTF-8",
    "huge.txt": r"^file is 150,000 bytes, over the 100,000-byte limit",
    "topics-number.md": r"^invalid metadata \(topics: Input should be a valid list",
    "date-text.md": r"^invalid metadata \(published: Input should be a valid date",
    "secret.md": r"^invalid metadata \(visibility: Input should be 'public', 'partners' or 'internal'",
    "list-front-matter.md": r"^front matter must be a mapping of keys to values, not a list",
    "bad-yaml.md": r"^front matter is not valid YAML",
    "only-front-matter.md": r"^no text found in the document",
    "twin-b.md": r"^duplicate doc_id 'twin': also claimed by .*twin-a\.md$",
}


def _good(folder: Path) -> None:
    (folder / "good.md").write_text(markdown("# Good\n\nThe good document mentions the harbour lighthouse.\n", doc_id="good"))
    (folder / "plain.txt").write_text("A plain note about rural mast sharing.\n")
    (folder / "twin-a.md").write_text(markdown("# Twin A\n\nFirst twin text about cable landing stations.\n", doc_id="twin"))


def _bad(folder: Path) -> None:
    """One file per entry of EXPECTED_REASONS."""
    good_pdf = write_pdf(folder / "tmp.pdf", ["A page of text that is long enough to cut in half."]).read_bytes()
    (folder / "tmp.pdf").unlink()
    (folder / "corrupt.pdf").write_bytes(good_pdf[: len(good_pdf) // 2])
    write_pdf(folder / "encrypted.pdf", ["Locked text."], user_password="s3cret")
    (folder / "corrupt.docx").write_bytes(b"this is not a zip archive " * 20)
    _docx_with_broken_xml(folder / "broken-xml.docx")
    (folder / "empty.md").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n\n\t\n")
    (folder / "junk.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (folder / "junk.md").write_bytes(bytes(random.Random(7).choices(range(0x80, 0x100), k=2048)))
    (folder / "controls.txt").write_bytes(bytes(range(1, 32)) * 50)
    (folder / "latin1.md").write_bytes("# Caf\u00e9 policy\n\nThe caf\u00e9 is open.\n".encode("latin-1"))
    (folder / "huge.txt").write_text("x" * 150_000)
    (folder / "topics-number.md").write_text("---\ntopics: 5\n---\n# T\n\nBody.\n")
    (folder / "date-text.md").write_text('---\npublished: "not a date"\n---\n# T\n\nBody.\n')
    (folder / "secret.md").write_text("---\nvisibility: secret\n---\n# T\n\nBody.\n")
    (folder / "list-front-matter.md").write_text("---\n- visibility: internal\n---\n# T\n\nBody.\n")
    (folder / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\n# T\n\nBody.\n")
    (folder / "only-front-matter.md").write_text("---\ntitle: Nothing else\n---\n")
    (folder / "twin-b.md").write_text(markdown("# Twin B\n\nSecond twin text about data centres.\n", doc_id="twin"))


def _docx_with_broken_xml(path: Path) -> None:
    import io
    import zipfile

    source = write_docx(path.with_suffix(".tmp"), [("h1", "Heading"), ("p", "Paragraph.")])
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            zout.writestr(item, data)
    source.unlink()
    assert zipfile.is_zipfile(io.BytesIO(path.read_bytes()))


def _reasons(result_errors: list[dict]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for error in result_errors:
        assert set(error) == {"path", "error"}
        assert error["path"] not in reasons, f"{error['path']} reported twice"
        reasons[Path(error["path"]).name] = error["error"]
    return reasons


def _assert_reasons(reasons: dict[str, str], expected: dict[str, str]) -> None:
    import re

    assert set(reasons) == set(expected)
    for name, pattern in expected.items():
        assert re.search(pattern, reasons[name]), f"{name}: {reasons[name]!r} does not match {pattern!r}"


# --- the run goes on -------------------------------------------------------------------------------


def test_each_bad_file_is_reported_with_its_reason_and_good_files_are_indexed(
    tmp_path: Path, settings_factory, embedder
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _good(docs)
    _bad(docs)
    settings = settings_factory(max_file_bytes=MAX_BYTES)

    result = ingest([docs], settings=settings, embedder=embedder)

    _assert_reasons(_reasons(result["errors"]), EXPECTED_REASONS)
    for error in result["errors"]:
        assert Path(error["path"]).is_absolute() and Path(error["path"]).parent == docs.resolve()
    assert result["failed"] == len(EXPECTED_REASONS)
    assert result["documents_seen"] == len(EXPECTED_REASONS) + 3
    assert (result["added"], result["updated"], result["deleted"]) == (3, 0, 0)
    view = IndexView(settings)
    assert {meta["doc_id"] for _, meta in view.chunks().values()} == {"good", "plain", "twin"}
    assert view.texts_of("twin") == ["First twin text about cable landing stations."]
    assert set(view.records()) == {"good", "plain", "twin"}
    assert view.lexical_hits("lighthouse")  # the lexical index was written too


def test_in_process_strict_raises_before_writing(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _good(docs)
    (docs / "secret.md").write_text("---\nvisibility: secret\n---\n# T\n\nBody.\n")
    settings = settings_factory()

    with pytest.raises(StrictModeError) as raised:
        ingest([docs], settings=settings, embedder=embedder, strict=True)

    assert [Path(e["path"]).name for e in raised.value.errors] == ["secret.md"]
    view = IndexView(settings)
    assert view.count() == 0
    assert view.records() == {}


# --- what was indexed stays --------------------------------------------------------------------------


def test_a_file_that_breaks_keeps_its_previous_chunks(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_pdf(docs / "report.pdf", ["The report says the beacon budget is forty units.", "Page two on towers."])
    (docs / "note.md").write_text("# Note\n\nThe note describes the orchard relay station.\n")
    (docs / "memo.txt").write_text("The memo lists the quarry microwave link.\n")
    (docs / "stays.md").write_text("# Stays\n\nUntouched document about kelp sensors.\n")
    settings = settings_factory(max_file_bytes=MAX_BYTES)
    first = ingest([docs], settings=settings, embedder=embedder)
    assert first["added"] == 4 and not first["errors"]
    view = IndexView(settings)
    before_chunks, before_records = view.chunks(), view.records()

    pdf = (docs / "report.pdf").read_bytes()
    (docs / "report.pdf").write_bytes(pdf[: len(pdf) // 3])  # now corrupt
    (docs / "note.md").write_bytes("# Note\n\nThe caf\u00e9 relay.\n".encode("latin-1"))  # now not UTF-8
    (docs / "memo.txt").write_text("quarry microwave link " * 6000)  # now over the size limit
    second = ingest([docs], settings=settings, embedder=embedder)

    _assert_reasons(_reasons(second["errors"]), {
        "report.pdf": r"^corrupt or unreadable PDF", "note.md": r"^not valid UTF-8", "memo.txt": r"over the 100,000-byte limit",
    })
    assert (second["unchanged"], second["deleted"], second["chunks_embedded"]) == (1, 0, 0)
    assert view.chunks() == before_chunks
    assert view.records() == before_records
    assert any(before_chunks[cid][1]["doc_id"] == "report" for cid in view.lexical_hits("beacon budget"))
    assert any(before_chunks[cid][1]["doc_id"] == "note" for cid in view.lexical_hits("orchard relay"))

    # Repaired files are re-indexed as updates.
    (docs / "report.pdf").write_bytes(pdf)
    (docs / "note.md").write_text("# Note\n\nThe note now describes the vineyard relay station.\n")
    third = ingest([docs], settings=settings, embedder=embedder)
    assert (third["updated"], third["unchanged"], third["failed"]) == (1, 2, 1)
    assert view.texts_of("note") == ["The note now describes the vineyard relay station."]


def test_a_broken_owner_keeps_its_doc_id_against_a_newcomer(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "z-owner.md").write_text(markdown("# Owner\n\nOwner text about estuary buoys.\n", doc_id="shared"))
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    before = view.chunks()

    # A newcomer (scanned first) claims the doc_id while the owner is unchanged, then while it is broken.
    (docs / "a-newcomer.md").write_text(markdown("# Newcomer\n\nNewcomer text about glacier cables.\n", doc_id="shared"))
    unchanged_owner = ingest([docs], settings=settings, embedder=embedder)
    (docs / "z-owner.md").write_bytes(b"\x00\x01binary now")
    broken_owner = ingest([docs], settings=settings, embedder=embedder)

    for result in (unchanged_owner, broken_owner):
        reasons = _reasons(result["errors"])
        assert reasons["a-newcomer.md"].startswith("duplicate doc_id 'shared': also claimed by ")
        assert reasons["a-newcomer.md"].endswith("z-owner.md")
        assert result["chunks_embedded"] == 0
    assert set(_reasons(broken_owner["errors"])) == {"a-newcomer.md", "z-owner.md"}
    assert view.chunks() == before
    assert view.records()["shared"].path.endswith("z-owner.md")

    # A changed owner also keeps its doc_id.
    (docs / "z-owner.md").write_text(markdown("# Owner\n\nOwner text about river gauges.\n", doc_id="shared"))
    changed_owner = ingest([docs], settings=settings, embedder=embedder)
    assert list(_reasons(changed_owner["errors"])) == ["a-newcomer.md"]
    assert changed_owner["updated"] == 1
    assert view.texts_of("shared") == ["Owner text about river gauges."]


# --- the real command ------------------------------------------------------------------------------

RESULT_KEYS = {"documents_seen", "added", "updated", "unchanged", "deleted", "failed", "chunks_embedded", "seconds", "errors"}


def test_cli_json_reports_errors_then_strict_changes_nothing(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    _good(docs)
    write_pdf(docs / "encrypted.pdf", ["Locked text."], user_password="s3cret")

    done = run_cli(["ingest", str(docs), "--json"], data_dir=data, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert RESULT_KEYS <= set(result)
    assert (result["documents_seen"], result["added"], result["failed"]) == (4, 3, 1)
    assert result["chunks_embedded"] == result["chunks_total"] > 0
    _assert_reasons(_reasons(result["errors"]), {"encrypted.pdf": EXPECTED_REASONS["encrypted.pdf"]})
    before = dump_index(data)
    assert set(before["records"]) == {"good", "plain", "twin"}

    # Change a good file, delete another, add a bad one: --strict must refuse all of it.
    (docs / "good.md").write_text(markdown("# Good\n\nRewritten text about the ferry terminal.\n", doc_id="good"))
    (docs / "plain.txt").unlink()
    (docs / "secret.md").write_text("---\nvisibility: secret\n---\n# T\n\nBody.\n")
    strict = run_cli(["ingest", str(docs), "--strict", "--json"], data_dir=data, cwd=tmp_path)

    assert strict.returncode == 1, strict.stdout + strict.stderr
    payload = json.loads(strict.stdout)
    assert payload["written"] is False and payload["failed"] == 2
    _assert_reasons(_reasons(payload["errors"]), {
        "encrypted.pdf": EXPECTED_REASONS["encrypted.pdf"], "secret.md": EXPECTED_REASONS["secret.md"],
    })
    assert dump_index(data) == before


def test_cli_strict_on_a_fresh_data_dir_writes_no_documents(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    _good(docs)
    (docs / "latin1.md").write_bytes("# Caf\u00e9\n\nCaf\u00e9.\n".encode("latin-1"))

    done = run_cli(["ingest", str(docs), "--strict"], data_dir=data, cwd=tmp_path)

    assert done.returncode == 1
    assert f"skipped {docs.resolve() / 'latin1.md'}: not valid UTF-8" in done.stderr
    assert "nothing was written (--strict)" in done.stderr
    state = dump_index(data)
    assert state["chunks"] == {} and state["records"] == {} and state["lexical_version"] is None


def test_cli_refuses_to_empty_the_index_from_a_wrong_path(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _good(docs)
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    empty = tmp_path / "empty"
    empty.mkdir()

    done = run_cli(["ingest", str(empty), "--json"], data_dir=settings.data_dir, cwd=tmp_path)

    assert done.returncode == 2
    assert "refusing to delete all 3 indexed documents" in done.stderr
    shutil.rmtree(empty)
    assert run_cli(["ingest", str(empty)], data_dir=settings.data_dir, cwd=tmp_path).returncode == 2
    assert set(IndexView(settings).records()) == {"good", "plain", "twin"}
