"""Helpers shared by the ingest tests (a plain module, imported by name).

Real PDF and DOCX files written on the fly, read access to everything an ingest wrote (Chroma's chunk
collections and per-document records, the lexical index), and a runner for the real `gcot` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from encoder import model_info
from gcot.settings import Settings
from store import DocumentRecord, StoredChunk, open_reader
from store.chroma import chroma_client, collection_name, location, open_chunk_collections, records_collection_name
from store.lexical import LexicalIndex
from store.records import RecordStore

GCOT = Path(sys.executable).with_name("gcot")


def write_pdf(path: Path, pages: list[str], *, title: str | None = None, user_password: str | None = None) -> Path:
    """A real PDF with one page per string (an empty string gives a blank page), optionally encrypted."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    encrypt = None
    if user_password is not None:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(user_password, ownerPassword=user_password + "-owner")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for text in pages:
        y = 800
        for line in text.splitlines():
            pdf.drawString(72, y, line)
            y -= 14
        pdf.showPage()
    pdf.save()
    return path


def write_docx(path: Path, blocks: list[tuple[str, str]], *, title: str | None = None) -> Path:
    """A real DOCX from (kind, text) blocks.

    kind is "title", "h1".."h3", "p", or "table" (rows separated by ';', cells by '|').
    """
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, 0)
        elif kind.startswith("h"):
            document.add_heading(text, int(kind[1:]))
        elif kind == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def markdown(body: str, **front: object) -> str:
    """A Markdown document with YAML front matter from keyword arguments."""
    import yaml

    if not front:
        return body
    return f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n{body}"


@dataclass
class IndexView:
    """Read access, in this process, to everything one ingest wrote.

    Use it only on data dirs that no other process has written since this process opened them
    (Chroma caches an embedded store per process); `dump_index` reads from a fresh process.
    """

    settings: Settings

    @property
    def base(self) -> str:
        name, dimension = model_info(self.settings.model_path())
        return collection_name(self.settings.collection_prefix, name, dimension)

    @property
    def location(self) -> str:
        return location(self.settings)

    def _collections(self) -> dict:
        try:
            return open_chunk_collections(chroma_client(self.settings), self.settings, self.base, create=False)
        except Exception:  # nothing ingested yet
            return {}

    def raw_chunks(self) -> list[tuple[str, StoredChunk]]:
        """(collection visibility, chunk) for every chunk in every chunk collection, leftovers included."""
        return [(v, chunk) for v, store in self._collections().items() for chunk in store.iter_chunks()]

    def chunks(self) -> dict[str, tuple[str, dict]]:
        """chunk id -> (text, metadata) of every chunk in Chroma (all visibilities' collections)."""
        found: dict[str, tuple[str, dict]] = {}
        for _, chunk in self.raw_chunks():
            assert chunk.chunk_id not in found, f"{chunk.chunk_id} is in two collections"
            found[chunk.chunk_id] = (chunk.text, chunk.metadata)
        return found

    def count(self) -> int:
        return len(self.raw_chunks())

    def texts_of(self, doc_id: str) -> list[str]:
        return [text for text, meta in self.chunks().values() if meta["doc_id"] == doc_id]

    def records(self) -> dict[str, DocumentRecord]:
        """The per-document records stored in Chroma."""
        try:
            return RecordStore(chroma_client(self.settings), records_collection_name(self.base), create=False).all()
        except Exception:  # nothing ingested yet
            return {}

    def record_chunk_ids(self) -> set[str]:
        return {chunk_id for record in self.records().values() for chunk_id in record.chunk_ids}

    def lexical(self) -> LexicalIndex:
        return open_reader(self.settings).snapshot().lexical

    def lexical_hits(self, query: str, k: int = 50) -> list[str]:
        return [chunk_id for chunk_id, _ in self.lexical().search(query, k=k)]

    def vector_hits(self, embedder, query: str, k: int = 10, visibilities=None) -> list[tuple[str, str]]:
        """(chunk id, text) of the nearest chunks in Chroma for `query`."""
        snapshot = open_reader(self.settings).snapshot()
        hits = snapshot.query(embedder.embed_query(query), k=k, visibilities=visibilities)
        return [(chunk.chunk_id, chunk.text) for chunk, _ in hits]


_DUMP = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from ingest_helpers import IndexView
from gcot.settings import Settings
from store.records import index_version
view = IndexView(Settings(_env_file=None, data_dir=Path(sys.argv[1]), chroma_host=None, chroma_port=None))
chunks = view.chunks()
try:
    lexical = view.lexical()
except FileNotFoundError:
    lexical = None
print(json.dumps({
    "chunks": {cid: [text, meta] for cid, (text, meta) in chunks.items()},
    "records": {d: {"path": r.path, "file_hash": r.file_hash, "visibility": r.visibility, "chunk_ids": list(r.chunk_ids)}
                for d, r in view.records().items()},
    "lexical_version": lexical.version if lexical else None,
    "index_version": lexical.version if lexical else None,
    "expected_version": index_version(view.records().values()),
    "lexical_ids": lexical.chunk_ids if lexical else None,
}))
"""


def dump_index(data_dir: Path) -> dict:
    """Everything an embedded-Chroma ingest wrote under `data_dir`, read by a fresh process.

    Returns:
        {"chunks": {id: [text, metadata]}, "records": {doc_id: {path, file_hash, visibility, chunk_ids}},
        "lexical_version": str | None, "lexical_ids": list | None}
    """
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, str(data_dir), str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=120, env=_clean_env(),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _clean_env(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GCOT_", "CHROMA_"))}
    environment.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    environment.update(extra)
    return environment


def cli_command(args: list[str]) -> list[str]:
    return [str(GCOT), *args]


def run_cli(args: list[str], *, data_dir: Path, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run the real `gcot` command with its own data dir and no `.env` (cwd should be a scratch folder)."""
    return subprocess.run(
        cli_command(args), cwd=cwd, env=_clean_env(GCOT_DATA_DIR=str(data_dir), **env),
        capture_output=True, text=True, timeout=timeout,
    )


def cli_env(data_dir: Path, **env: str) -> dict[str, str]:
    return _clean_env(GCOT_DATA_DIR=str(data_dir), **env)
