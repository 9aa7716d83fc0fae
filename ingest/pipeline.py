"""The ingest job: source folders -> loaded documents -> chunks -> embeddings -> Chroma + BM25.

`ingest()` is the one public entry point; the CLI, the benchmark and the tests all call it.

Correctness on re-runs rests on three rules:
- a document is re-embedded only when its file (or its metadata files) changed; its chunk ids contain
  its content hash, so new chunks never collide with the old ones they replace;
- the manifest is written after the store holds the new chunks, and old chunks are deleted after
  the manifest stops naming them;
- every run ends by deleting whatever the store holds that the manifest does not name, so a run
  killed at any point is repaired by the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from encoder import Embedder, model_info
from gcot.settings import Settings
from ingest.chunking import CHUNKER_VERSION, Chunk, Chunker, TokenCounter
from ingest.loaders import SUPPORTED_SUFFIXES, LoadedDocument, LoadError, load_document
from ingest.metadata import SIDECAR_SUFFIX, MetadataError, metadata_files
from store.chroma import VectorStore, open_vector_store
from store.lexical import LexicalIndex, index_version, lexical_dir
from store.manifest import Manifest, ManifestEntry, manifest_path

log = logging.getLogger(__name__)

IGNORED_NAMES = {"readme.md", "license", "license.md"}
_EMBED_GROUP = 128
"""Chunks embedded and written to the store together. Chunks are embedded longest first (by model
tokens), so every batch pads little whatever the group size; a small group bounds the work a killed
run loses (stored chunks are reused by the next run, committed or not)."""


class IngestError(TypedDict):
    path: str
    error: str


class IngestResult(TypedDict):
    documents_seen: int
    """Supported files found in the source folders."""
    added: int
    updated: int
    unchanged: int
    deleted: int
    """Documents removed from every index because their file is gone."""
    failed: int
    chunks_embedded: int
    chunks_total: int
    chunks_truncated: int
    """Chunks longer than the model's window (the model would cut them); the target is 0."""
    orphans_removed: int
    seconds: float
    collection: str
    lexical_version: str
    errors: list[IngestError]


class StrictModeError(RuntimeError):
    """Raised by `ingest(strict=True)` before anything is written, when some input is bad."""

    def __init__(self, errors: list[IngestError]) -> None:
        super().__init__(f"{len(errors)} file(s) failed; nothing was written (--strict)")
        self.errors = errors


@dataclass
class _Pending:
    path: str
    file_hash: str
    document: LoadedDocument
    chunks: list[Chunk] = field(default_factory=list)


# --- helpers ---------------------------------------------------------------------------------------


def _scan(sources: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs of every supported, non-hidden file under the sources, sorted."""
    found: list[tuple[Path, Path]] = []
    for source in sources:
        root = source.resolve()
        if root.is_file():
            found.append((root.parent, root))
            continue
        if not root.is_dir():
            msg = f"source folder not found: {source}"
            raise FileNotFoundError(msg)
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if any(part.startswith((".", "_")) for part in parts) or not path.is_file():
                continue
            if path.name.lower() in IGNORED_NAMES or path.name.endswith(SIDECAR_SUFFIX):
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append((root, path))
    return found


def _file_hash(raw: bytes, path: Path, root: Path, settings: Settings) -> str:
    digest = hashlib.sha256(raw)
    try:
        for meta_file in metadata_files(path, root):
            digest.update(meta_file.name.encode() + meta_file.read_bytes())
    except OSError:
        pass
    digest.update(f"|{CHUNKER_VERSION}|{settings.chunk_max_tokens}|{settings.chunk_overlap_tokens}".encode())
    return digest.hexdigest()


def _progress(iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="doc" if desc == "load" else "chunk", file=sys.stderr, leave=False)


class _Lock:
    """One ingest at a time per data dir."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w")

    def __enter__(self) -> _Lock:
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


# --- PUBLIC API ------------------------------------------------------------------------------------


def ingest(
    sources: Sequence[Path] | Path,
    *,
    settings: Settings | None = None,
    prune: bool = True,
    strict: bool = False,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> IngestResult:
    """Bring the index in line with the documents under `sources`.

    Args:
        sources: folders (or single files) to ingest; together they are the whole corpus.
        settings: configuration. Defaults to `Settings()` (env and `.env`).
        prune: delete documents whose file is gone. Defaults to True.
        strict: fail before writing anything if any file is bad. Defaults to False (report, skip).
        embedder: an already-loaded model; loaded on first need otherwise (never on a no-op run).
        progress: show progress bars on stderr. Defaults to False.

    Returns:
        IngestResult with counts, timings and one `{path, error}` per bad file.

    Raises:
        StrictModeError: with `strict=True`, when any file failed to load.
    """
    started = time.perf_counter()
    settings = settings or Settings()
    sources = [sources] if isinstance(sources, Path) else [Path(s) for s in sources]
    model_path = settings.model_path()
    model_name, dimension = model_info(model_path)

    with _Lock(settings.data_dir / "ingest.lock"):
        store = open_vector_store(settings, model_name=model_name, dimension=dimension)
        manifest = Manifest(manifest_path(settings, store.name))
        try:
            result = _run(
                sources, settings=settings, store=store, manifest=manifest, prune=prune, strict=strict,
                embedder=embedder, model_path=model_path, progress=progress,
            )
        finally:
            manifest.close()
    result["seconds"] = round(time.perf_counter() - started, 3)
    log.info("ingest finished", extra={k: v for k, v in result.items() if k != "errors"})
    return result


def _run(
    sources: list[Path], *, settings: Settings, store: VectorStore, manifest: Manifest, prune: bool,
    strict: bool, embedder: Embedder | None, model_path: Path, progress: bool,
) -> IngestResult:
    entries = manifest.entries()
    by_path: dict[str, list[ManifestEntry]] = {}
    for entry in entries.values():
        by_path.setdefault(entry.path, []).append(entry)
    stored_ids = store.ids()
    files = _scan(sources)
    if not files and entries and prune:
        # A mistyped path must not silently empty the index.
        msg = (
            f"no supported documents found in {', '.join(map(str, sources))}; refusing to delete all "
            f"{len(entries)} indexed documents (check the path, or pass --no-prune)"
        )
        raise FileNotFoundError(msg)

    errors: list[IngestError] = []
    failed_paths: set[str] = set()
    kept_doc_ids: set[str] = set()  # unchanged documents, still valid
    pending: dict[str, _Pending] = {}
    unchanged = 0

    for root, path in _progress(files, total=len(files), desc="load", enabled=progress):
        key = str(path)
        try:
            raw = path.read_bytes() if path.stat().st_size <= settings.max_file_bytes else None
            file_hash = _file_hash(raw or b"", path, root, settings) if raw is not None else ""
            previous = [e for e in by_path.get(key, []) if e.file_hash == file_hash and file_hash]
            if previous and all(set(e.chunk_ids) <= stored_ids for e in previous):
                for entry in previous:
                    # An unchanged file keeps its doc_id against a newcomer seen earlier in the scan.
                    if (newcomer := pending.pop(entry.doc_id, None)) is not None:
                        errors.append({"path": newcomer.path, "error": f"duplicate doc_id {entry.doc_id!r}: also claimed by {key}"})
                        failed_paths.add(newcomer.path)
                    kept_doc_ids.add(entry.doc_id)
                unchanged += 1
                continue
            document = load_document(path, root, max_bytes=settings.max_file_bytes, raw=raw)
        except (LoadError, MetadataError, OSError) as exc:
            errors.append({"path": key, "error": str(exc)})
            failed_paths.add(key)
            # A file that broke keeps what it had indexed, doc_ids included: no other file takes them over.
            for entry in by_path.get(key, []):
                if (newcomer := pending.pop(entry.doc_id, None)) is not None:
                    errors.append({"path": newcomer.path, "error": f"duplicate doc_id {entry.doc_id!r}: also claimed by {key}"})
                    failed_paths.add(newcomer.path)
                kept_doc_ids.add(entry.doc_id)
            continue
        doc_id = document.meta.doc_id
        claimant = pending.get(doc_id)
        owner = entries.get(doc_id)
        if claimant or (doc_id in kept_doc_ids):
            other = claimant.path if claimant else owner.path if owner else "another file"
            # The file that already owned the doc_id keeps it; the newcomer is reported.
            if claimant and owner and owner.path == key:
                pending[doc_id] = _Pending(key, file_hash, document)
                key, other = claimant.path, key
            errors.append({"path": key, "error": f"duplicate doc_id {doc_id!r}: also claimed by {other}"})
            failed_paths.add(key)
            continue
        pending[doc_id] = _Pending(key, file_hash, document)

    for error in errors:
        log.warning("document skipped", extra={"path": error["path"], "reason": error["error"]})
    if strict and errors:
        raise StrictModeError(errors)

    # Chunk everything that changed; decide what really needs embedding. (A no-op run never builds
    # the chunker, which imports LangChain and loads the tokenizer.)
    chunker = (
        Chunker(TokenCounter(model_path), max_tokens=settings.chunk_max_tokens, overlap_tokens=settings.chunk_overlap_tokens)
        if pending
        else None
    )
    truncated = 0
    to_embed: list[tuple[_Pending, Chunk]] = []
    tokens: dict[str, int] = {}
    for item in pending.values():
        item.chunks = chunker.split(item.document, content_hash=item.file_hash)
        for chunk in item.chunks:
            tokens[chunk.chunk_id] = chunker.counter.count(chunk.embed_text)
            truncated += tokens[chunk.chunk_id] > chunker.counter.window
        to_embed.extend((item, chunk) for chunk in item.chunks if chunk.chunk_id not in stored_ids)
    # Longest first, so each batch holds chunks of about one length and pads little (a stable sort
    # keeps document order among equals).
    to_embed.sort(key=lambda pair: -tokens[pair[1].chunk_id])

    added = sum(1 for doc_id in pending if doc_id not in entries)
    updated = len(pending) - added
    if to_embed and embedder is None:
        embedder = Embedder(model_path, batch_size=settings.embedding_batch_size)

    # Embed and write in groups; a document's manifest row changes only once all its chunks are stored.
    remaining = {doc_id: len([c for c in item.chunks if c.chunk_id not in stored_ids]) for doc_id, item in pending.items()}
    for doc_id, count in remaining.items():
        if count == 0:
            _commit_document(pending[doc_id], store, manifest, entries)
    bar = _progress(range(0, len(to_embed), _EMBED_GROUP), total=-(-len(to_embed) // _EMBED_GROUP), desc="embed", enabled=progress)
    for start in bar:
        group = to_embed[start : start + _EMBED_GROUP]
        vectors = embedder.embed_documents([chunk.embed_text for _, chunk in group])
        store.upsert(
            [chunk.chunk_id for _, chunk in group], vectors, [chunk.text for _, chunk in group],
            [chunk.metadata for _, chunk in group],
        )
        for item, _chunk in group:
            doc_id = item.document.meta.doc_id
            remaining[doc_id] -= 1
            if remaining[doc_id] == 0:
                _commit_document(item, store, manifest, entries)
        # One line per group: progress for runs without a terminal (CI, cron), and a checkpoint marker.
        log.info("chunks embedded", extra={"chunks_done": start + len(group), "chunks_to_embed": len(to_embed)})

    # Prune documents whose file is gone (or no longer claims that doc_id).
    live = set(pending) | kept_doc_ids
    deleted = 0
    for doc_id, entry in entries.items():
        if doc_id in live or entry.path in failed_paths or not prune:
            continue
        manifest.remove(doc_id)
        store.delete(entry.chunk_ids)
        deleted += 1

    # Sweep: anything the store holds that the manifest does not name is left over from a killed run.
    expected = {chunk_id for entry in manifest.entries().values() for chunk_id in entry.chunk_ids}
    orphans = store.ids() - expected
    if orphans:
        store.delete(sorted(orphans))

    lexical_root = lexical_dir(settings, store.name)
    version = index_version(expected)
    if LexicalIndex.current_version(lexical_root) != version:
        LexicalIndex.build(store.iter_chunks()).save(lexical_root)

    return IngestResult(
        documents_seen=len(files),
        added=added,
        updated=updated,
        unchanged=unchanged,
        deleted=deleted,
        failed=len(errors),
        chunks_embedded=len(to_embed),
        chunks_total=len(expected),
        chunks_truncated=truncated,
        orphans_removed=len(orphans),
        seconds=0.0,
        collection=store.name,
        lexical_version=version,
        errors=errors,
    )


def _commit_document(item: _Pending, store: VectorStore, manifest: Manifest, entries: dict[str, ManifestEntry]) -> None:
    doc_id = item.document.meta.doc_id
    new_ids = tuple(chunk.chunk_id for chunk in item.chunks)
    manifest.put(ManifestEntry(doc_id, item.path, item.file_hash, new_ids))
    old = entries.get(doc_id)
    if old:
        stale = sorted(set(old.chunk_ids) - set(new_ids))
        if stale:
            store.delete(stale)
