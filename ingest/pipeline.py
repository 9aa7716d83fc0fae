"""The ingest job: source folders -> loaded documents -> chunks -> embeddings -> Chroma (+ BM25 cache).

`ingest()` is the one public entry point; the CLI, the benchmark and the tests all call it. A run is
six named steps: scan, plan, embed, write, prune, publish (then `check`).

Correctness rests on the store keeping everything in Chroma (see `store/`):
- the per-document records (content hash, metadata hash, chunk ids) live in Chroma, so any host, or
  one with an empty data dir, plans the same incremental run;
- a document is re-embedded only when what the model sees changed (its text, headings or title);
  chunk ids contain that content hash, so new chunks never collide with the ones they replace. A
  change of metadata alone (visibility, topics, ...) rewrites chunk metadata, moving chunks to
  another visibility's collection with their stored vectors;
- a document's record is written after Chroma holds all its new chunks, and old chunks are deleted
  after the record stops naming them; every run ends by deleting whatever the collections hold that
  no record names, so a run killed at any point is repaired by the next one;
- only a run that got to the end publishes a new index version, which serving processes reload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from encoder import Embedder, load_embedder, model_info
from gcot.sentences import locate_sentences
from gcot.settings import Settings
from ingest.chunking import CHUNKER_VERSION, Chunk, Chunker, TokenCounter
from ingest.loaders import SUPPORTED_SUFFIXES, LoadedDocument, LoadError, load_document
from ingest.metadata import SIDECAR_SUFFIX, MetadataError, metadata_files
from store import DocumentRecord, IndexWriter, check_index, open_writer
from store.records import utc_now
from store.sentences import split_texts, sync_sentences

log = logging.getLogger(__name__)

IGNORED_NAMES = {"readme.md", "license", "license.md"}
DEFAULT_SOURCE = "GCOT_DEFAULT_VISIBILITY"
_EMBED_GROUP = 128
"""Chunks embedded and written to the store together. Chunks are embedded longest first (by model
tokens), so every batch pads little whatever the group size; a small group bounds the work a killed
run loses (stored chunks are reused by the next run, committed or not)."""


class IngestError(TypedDict):
    path: str
    error: str


class Defaulted(TypedDict):
    path: str
    doc_id: str
    visibility: str
    source: str
    """`GCOT_DEFAULT_VISIBILITY` (no metadata said anything) or the `_meta.yaml` that gave it."""


class IngestResult(TypedDict):
    documents_seen: int
    """Supported files found in the source folders."""
    added: int
    updated: int
    """Documents whose content or metadata changed (`metadata_only` of them re-embedded nothing)."""
    metadata_only: int
    unchanged: int
    deleted: int
    """Documents removed from every index because their file is gone."""
    failed: int
    chunks_embedded: int
    chunks_moved: int
    """Chunks moved to another visibility's collection with their stored vectors (not re-embedded)."""
    chunks_total: int
    chunks_truncated: int
    """Chunks longer than the model's window (the model would cut them); the target is 0."""
    orphans_removed: int
    sentence_chunks_in_context: int
    """Embedded chunks whose sentence vectors came from the chunk's own forward pass (`sentence_vectors`)."""
    sentences_embedded_alone: int
    """Sentences encoded on their own: those of chunks whose sentences could not all be placed in
    their text, of older indexes, or every one with `GCOT_SENTENCE_VECTORS=standalone`."""
    seconds: float
    collection: str
    """The index's base collection name; chunks live in `<collection>__<visibility>`."""
    lexical_version: str
    """The published index version (the lexical index cached under that name)."""
    index_version: str
    defaulted: list[Defaulted]
    """Documents of this run whose visibility no document metadata stated."""
    errors: list[IngestError]
    check: dict[str, Any]
    """`gcot index check` of the index after the run (`clean`, `counts`, `problems`, ...)."""


class StrictModeError(RuntimeError):
    """Raised by `ingest(strict=True)` before anything is written, when some input is bad."""

    def __init__(self, errors: list[IngestError]) -> None:
        super().__init__(f"{len(errors)} file(s) failed; nothing was written (--strict)")
        self.errors = errors


@dataclass
class _Pending:
    """A document to (re)write: new, changed, or with changed metadata."""

    path: str
    file_hash: str
    document: LoadedDocument
    content_hash: str = ""
    metadata_hash: str = ""
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return self.document.meta.doc_id

    @property
    def visibility(self) -> str:
        return str(self.document.meta.visibility)


@dataclass
class _Plan:
    files: list[tuple[Path, Path]]
    records: dict[str, DocumentRecord]
    stored: dict[str, set[str]]
    pending: dict[str, _Pending] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    """doc_ids that stay as they are (unchanged, or their file broke)."""
    unchanged: int = 0
    errors: list[IngestError] = field(default_factory=list)
    failed_paths: set[str] = field(default_factory=set)

    def fail(self, path: str, error: str) -> None:
        self.errors.append({"path": path, "error": error})
        self.failed_paths.add(path)


@dataclass
class _Counts:
    embedded: int = 0
    moved: int = 0
    truncated: int = 0
    metadata_only: int = 0
    deleted: int = 0
    orphans: int = 0
    in_context: int = 0


# --- step 1: scan ----------------------------------------------------------------------------------


def scan_sources(sources: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs of every supported, non-hidden file under the sources, sorted.

    Raises:
        FileNotFoundError: when a source is neither a file nor a folder.
    """
    found: list[tuple[Path, Path]] = []
    for source in sources:
        root = Path(source).resolve()
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


def _shaping(settings: Settings) -> str:
    """The settings that shape what is stored for a chunk. How sentences are embedded is one: an index
    whose sentence vectors were made another way is re-embedded once, never served mixed (the
    refusal model is calibrated on one kind)."""
    return f"{CHUNKER_VERSION}|{settings.chunk_max_tokens}|{settings.chunk_overlap_tokens}|{settings.sentence_vectors}"


def _file_hash(raw: bytes, path: Path, root: Path, settings: Settings) -> str:
    """Bytes of the file and its metadata files, plus every setting that shapes its chunks."""
    digest = hashlib.sha256(raw)
    try:
        for meta_file in metadata_files(path, root):
            digest.update(meta_file.name.encode() + meta_file.read_bytes())
    except OSError:
        pass
    digest.update(f"|{_shaping(settings)}|{settings.default_visibility}".encode())
    return digest.hexdigest()


def _content_hash(document: LoadedDocument, settings: Settings) -> str:
    """What the model sees: title, headings and text, and the chunk settings (not the other metadata)."""
    digest = hashlib.sha256(_shaping(settings).encode())
    digest.update(document.meta.title.encode("utf-8"))
    for section in document.sections:
        digest.update(json.dumps([section.heading_path, section.page, section.text]).encode("utf-8"))
    return digest.hexdigest()


def _progress(iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="doc" if desc == "load" else "chunk", file=sys.stderr, leave=False)


# --- step 2: plan ----------------------------------------------------------------------------------


def _plan(files: list[tuple[Path, Path]], writer: IndexWriter, settings: Settings, progress: bool) -> _Plan:
    """Decide, from the records in Chroma, which files are unchanged and load the others."""
    plan = _Plan(files, writer.records(), writer.stored_ids())
    by_path: dict[str, list[DocumentRecord]] = {}
    for record in plan.records.values():
        by_path.setdefault(record.path, []).append(record)
    for root, path in _progress(files, total=len(files), desc="load", enabled=progress):
        key = str(path)
        try:
            raw = path.read_bytes() if path.stat().st_size <= settings.max_file_bytes else None
            file_hash = _file_hash(raw or b"", path, root, settings) if raw is not None else ""
            previous = [r for r in by_path.get(key, []) if r.file_hash == file_hash and file_hash]
            if previous and all(set(r.chunk_ids) <= plan.stored[r.visibility] for r in previous):
                _keep(plan, previous, key)
                plan.unchanged += 1
                continue
            document = load_document(path, root, max_bytes=settings.max_file_bytes, raw=raw)
        except (LoadError, MetadataError, OSError) as exc:
            plan.fail(key, str(exc))
            # A file that broke keeps what it had indexed, doc_ids included: no other file takes them over.
            _keep(plan, by_path.get(key, []), key)
            continue
        _claim(plan, _Pending(key, file_hash, _with_visibility(document, settings)))
    for error in plan.errors:
        log.warning("document skipped", extra={"path": error["path"], "reason": error["error"]})
    return plan


def _keep(plan: _Plan, records: list[DocumentRecord], key: str) -> None:
    for record in records:
        # An unchanged (or broken) owner keeps its doc_id against a newcomer seen earlier in the scan.
        if (newcomer := plan.pending.pop(record.doc_id, None)) is not None:
            plan.fail(newcomer.path, f"duplicate doc_id {record.doc_id!r}: also claimed by {key}")
        plan.kept.add(record.doc_id)


def _claim(plan: _Plan, item: _Pending) -> None:
    doc_id, key = item.doc_id, item.path
    claimant = plan.pending.get(doc_id)
    owner = plan.records.get(doc_id)
    if claimant or doc_id in plan.kept:
        other = claimant.path if claimant else owner.path if owner else "another file"
        # The file that already owned the doc_id keeps it; the newcomer is reported.
        if claimant and owner and owner.path == key:
            plan.pending[doc_id] = item
            key, other = claimant.path, key
        plan.fail(key, f"duplicate doc_id {doc_id!r}: also claimed by {other}")
        return
    plan.pending[doc_id] = item


def _with_visibility(document: LoadedDocument, settings: Settings) -> LoadedDocument:
    """Fail closed: a document no metadata gives a visibility gets `default_visibility` (and is reported)."""
    meta = document.meta
    if meta.visibility is None:
        meta = meta.model_copy(update={"visibility": settings.default_visibility, "visibility_from": DEFAULT_SOURCE})
        document = LoadedDocument(meta, document.sections)
    return document


def _defaulted(files: list[tuple[Path, Path]], records: dict[str, DocumentRecord]) -> list[Defaulted]:
    """Indexed documents of these sources whose visibility their own metadata does not state."""
    paths = {str(path) for _, path in files}
    return [
        {"path": r.path, "doc_id": r.doc_id, "visibility": r.visibility, "source": r.visibility_from or DEFAULT_SOURCE}
        for r in sorted(records.values(), key=lambda r: r.path)
        if r.path in paths and r.visibility_from not in ("front matter", "sidecar")
    ]


# --- step 3: embed (chunk, then embed what Chroma does not hold) -----------------------------------


def _chunk(plan: _Plan, settings: Settings, model_path: Path, counts: _Counts) -> dict[str, int]:
    """Chunk every pending document; returns each chunk's token count (for longest-first batching)."""
    if not plan.pending:  # a no-op run never builds the chunker (LangChain import, tokenizer load)
        return {}
    chunker = Chunker(TokenCounter(model_path), max_tokens=settings.chunk_max_tokens,
                      overlap_tokens=settings.chunk_overlap_tokens)
    tokens: dict[str, int] = {}
    for item in plan.pending.values():
        item.content_hash = _content_hash(item.document, settings)
        item.chunks = chunker.split(item.document, content_hash=item.content_hash)
        item.metadata_hash = hashlib.sha256(
            json.dumps([c.metadata for c in item.chunks], sort_keys=True).encode("utf-8")
        ).hexdigest()
        for chunk in item.chunks:
            tokens[chunk.chunk_id] = chunker.counter.count(chunk.embed_text)
            counts.truncated += tokens[chunk.chunk_id] > chunker.counter.window
    return tokens


def _embed_and_write(plan: _Plan, writer: IndexWriter, tokens: dict[str, int], embedder: Embedder | None,
                     settings: Settings, model_path: Path, counts: _Counts, progress: bool) -> Embedder | None:
    """Reuse stored chunks (metadata rewritten, moved if their visibility changed), embed the rest.

    A document's record changes only once all its chunks are stored under its visibility.
    """
    to_embed: list[tuple[_Pending, Chunk]] = []
    remaining: dict[str, int] = {}
    for item in plan.pending.values():
        missing = _reuse_stored(item, plan, writer, counts)
        to_embed.extend((item, chunk) for chunk in missing)
        remaining[item.doc_id] = len(missing)
        if not missing:
            counts.metadata_only += item.doc_id in plan.records
            _commit_document(item, plan, writer)
    # Longest first, so each batch holds chunks of about one length and pads little (a stable sort
    # keeps document order among equals).
    to_embed.sort(key=lambda pair: -tokens[pair[1].chunk_id])
    if to_embed and embedder is None:
        embedder = Embedder(model_path, batch_size=settings.embedding_batch_size)
    groups = range(0, len(to_embed), _EMBED_GROUP)
    for start in _progress(groups, total=len(groups), desc="embed", enabled=progress):
        group = to_embed[start : start + _EMBED_GROUP]
        vectors = _embed_group(group, embedder, settings, writer, counts)
        by_visibility: dict[str, list[int]] = {}
        for index, (item, _chunk) in enumerate(group):
            by_visibility.setdefault(item.visibility, []).append(index)
        for visibility, indexes in by_visibility.items():
            writer.add(visibility, [group[i][1].chunk_id for i in indexes], vectors[indexes],
                       [group[i][1].text for i in indexes], [group[i][1].metadata for i in indexes])
        for item, _chunk in group:
            remaining[item.doc_id] -= 1
            if remaining[item.doc_id] == 0:
                _commit_document(item, plan, writer)
        writer.progress()
        counts.embedded += len(group)
        # One line per group: progress for runs without a terminal (CI, cron), and a checkpoint marker.
        log.info("chunks embedded", extra={"chunks_done": start + len(group), "chunks_to_embed": len(to_embed)})
    return embedder


def _embed_group(group: list[tuple[_Pending, Chunk]], embedder: Any, settings: Settings, writer: IndexWriter,
                 counts: _Counts) -> np.ndarray:
    """The group's chunk vectors; with in-context sentence vectors, their sentences' vectors are stored too.

    Each sentence's vector is pooled from its chunk's forward pass (`Embedder.embed_documents_and_spans`),
    so sentences cost no encoding of their own. A chunk with a sentence that cannot be placed in its
    text (or that the model window cut off) is left to `sync_sentences`, which embeds it sentence by sentence.
    """
    texts = [chunk.embed_text for _, chunk in group]
    if settings.sentence_vectors != "in_context" or not hasattr(embedder, "embed_documents_and_spans"):
        return embedder.embed_documents(texts)
    sentences = [split_texts(chunk.text) for _, chunk in group]
    spans: list[list[tuple[int, int]]] = []
    for (_, chunk), chunk_sentences in zip(group, sentences, strict=True):
        body_at = len(chunk.embed_text) - len(chunk.text)  # the embed text is "<prefix>\n<body>" or the body
        located = locate_sentences(chunk.text, chunk_sentences)
        spans.append([(body_at + span[0], body_at + span[1]) if span else (0, 0) for span in located])
    vectors, pooled = embedder.embed_documents_and_spans(texts, spans)
    whole = [i for i, rows in enumerate(pooled) if np.linalg.norm(rows, axis=1).min(initial=1.0) > 0.5]
    if whole:
        writer.sentences.put([group[i][1].chunk_id for i in whole], [sentences[i] for i in whole],
                             [pooled[i] for i in whole])
        counts.in_context += len(whole)
    return vectors


def _reuse_stored(item: _Pending, plan: _Plan, writer: IndexWriter, counts: _Counts) -> list[Chunk]:
    """Rewrite metadata of chunks already stored (moving them to the right collection); return the rest."""
    target = item.visibility
    metadata = {chunk.chunk_id: chunk.metadata for chunk in item.chunks}
    in_place = [c.chunk_id for c in item.chunks if c.chunk_id in plan.stored[target]]
    if in_place:
        writer.update_metadata(target, in_place, [metadata[cid] for cid in in_place])
    for source, held in plan.stored.items():
        elsewhere = [c.chunk_id for c in item.chunks if source != target and c.chunk_id in held
                     and c.chunk_id not in plan.stored[target]]
        if elsewhere:
            moved = writer.move(elsewhere, source=source, target=target, metadatas=metadata)
            plan.stored[target].update(moved)
            counts.moved += len(moved)
    return [c for c in item.chunks if c.chunk_id not in plan.stored[target]]


def _commit_document(item: _Pending, plan: _Plan, writer: IndexWriter) -> None:
    """Write the document's record, then delete the chunks its previous record named and it no longer does."""
    old = plan.records.get(item.doc_id)
    meta = item.document.meta
    new_ids = tuple(chunk.chunk_id for chunk in item.chunks)
    writer.put_record(DocumentRecord(
        doc_id=item.doc_id, title=meta.title, visibility=item.visibility, topics=tuple(meta.topics),
        source_url=meta.source_url, published=meta.published.isoformat() if meta.published else "",
        updated_at=utc_now(), chunk_ids=new_ids, path=item.path, file_hash=item.file_hash,
        content_hash=item.content_hash, metadata_hash=item.metadata_hash, visibility_from=meta.visibility_from,
    ))
    plan.stored[item.visibility].update(new_ids)
    if old:
        keep = set(new_ids) if old.visibility == item.visibility else set()
        stale = set(old.chunk_ids) - keep
        writer.delete(old.visibility, stale)
        plan.stored[old.visibility] -= stale


# --- steps 4-6: prune, sweep, publish ---------------------------------------------------------------


def _prune(plan: _Plan, writer: IndexWriter, counts: _Counts) -> None:
    """Delete documents whose file is gone (or no longer claims that doc_id): record first, then chunks."""
    live = set(plan.pending) | plan.kept
    for doc_id, record in plan.records.items():
        if doc_id in live or record.path in plan.failed_paths:
            continue
        writer.remove_records([doc_id])
        writer.delete(record.visibility, record.chunk_ids)
        counts.deleted += 1


def _sweep(writer: IndexWriter, counts: _Counts) -> dict[str, DocumentRecord]:
    """Delete what a collection holds that no record names for it (left over from a killed run)."""
    records = writer.records()
    for visibility, held in writer.stored_ids().items():
        expected = {cid for r in records.values() if r.visibility == visibility for cid in r.chunk_ids}
        orphans = held - expected
        if orphans:
            writer.delete(visibility, orphans)
            counts.orphans += len(orphans)
    return records


# --- PUBLIC API ------------------------------------------------------------------------------------


def ingest(
    sources: Sequence[Path] | Path,
    *,
    settings: Settings | None = None,
    prune: bool = True,
    strict: bool = False,
    embedder: Embedder | None = None,
    sentence_embedder: Any = None,
    progress: bool = False,
) -> IngestResult:
    """Bring the index in line with the documents under `sources`.

    Args:
        sources: folders (or single files) to ingest; together they are the whole corpus.
        settings: configuration. Defaults to `Settings()` (env and `.env`).
        prune: delete documents whose file is gone. Defaults to True.
        strict: fail before writing anything if any file is bad. Defaults to False (report, skip).
        embedder: an already-loaded model; loaded on first need otherwise (never on a no-op run).
        sentence_embedder: the model that embeds chunk sentences on their own (`store.sentences`), for
            the chunks whose sentence vectors are not pooled in context (see `Settings.sentence_vectors`).
            Defaults to `embedder` when one is given, else `load_embedder(purpose="sentences")`:
            the query model (ONNX int8 by default), loaded only when needed.
        progress: show progress bars on stderr. Defaults to False.

    Returns:
        IngestResult with counts, timings, one `{path, error}` per bad file, and the index check.

    Raises:
        StrictModeError: with `strict=True`, when any file failed to load.
        store.StoreLockedError: another process holds the store for writing.
        FileNotFoundError: a source folder is missing, or it holds no documents while the index does.
    """
    started = time.perf_counter()
    settings = settings or Settings()
    sources = [sources] if isinstance(sources, Path) else [Path(s) for s in sources]
    model_path = settings.model_path()
    model_name, dimension = model_info(model_path)
    with open_writer(settings, model_name=model_name, dimension=dimension) as writer:
        result = _run(sources, settings=settings, writer=writer, prune=prune, strict=strict, embedder=embedder,
                      sentence_embedder=sentence_embedder or embedder, model_path=model_path, progress=progress)
        result["check"] = dict(check_index(settings, model_name=model_name, dimension=dimension))
    result["seconds"] = round(time.perf_counter() - started, 3)
    if not result["check"]["clean"]:
        log.warning("index check found drift after ingest", extra={"counts": result["check"]["counts"]})
    log.info("ingest finished", extra={k: v for k, v in result.items() if k not in ("errors", "defaulted", "check")})
    return result


def _run(sources: list[Path], *, settings: Settings, writer: IndexWriter, prune: bool, strict: bool,
         embedder: Embedder | None, sentence_embedder: Any, model_path: Path, progress: bool) -> IngestResult:
    files = scan_sources(sources)
    plan = _plan(files, writer, settings, progress)
    if not files and plan.records and prune:
        # A mistyped path must not silently empty the index.
        msg = (
            f"no supported documents found in {', '.join(map(str, sources))}; refusing to delete all "
            f"{len(plan.records)} indexed documents (check the path, or pass --no-prune)"
        )
        raise FileNotFoundError(msg)
    if strict and plan.errors:
        raise StrictModeError(plan.errors)
    counts = _Counts()
    tokens = _chunk(plan, settings, model_path, counts)
    embedder = _embed_and_write(plan, writer, tokens, embedder, settings, model_path, counts, progress)
    if prune:
        _prune(plan, writer, counts)
    records = _sweep(writer, counts)
    # Sentence vectors for every published chunk (issue 11), so answering embeds only the query.
    synced = sync_sentences(writer, records,
                            load_embedder=lambda: sentence_embedder or load_embedder(settings, purpose="sentences"))
    version = writer.publish()
    added = sum(1 for doc_id in plan.pending if doc_id not in plan.records)
    return IngestResult(
        documents_seen=len(files), added=added, updated=len(plan.pending) - added, metadata_only=counts.metadata_only,
        unchanged=plan.unchanged, deleted=counts.deleted, failed=len(plan.errors), chunks_embedded=counts.embedded,
        chunks_moved=counts.moved, chunks_total=sum(len(r.chunk_ids) for r in records.values()),
        chunks_truncated=counts.truncated, orphans_removed=counts.orphans, sentence_chunks_in_context=counts.in_context,
        sentences_embedded_alone=synced["sentences"], seconds=0.0, collection=writer.name,
        lexical_version=version, index_version=version, defaulted=_defaulted(files, records), errors=plan.errors, check={},
    )
