"""Per-document records, kept in Chroma beside the vectors so every host plans the same run.

One record per indexed document lives in the `<base>__records` collection: its scalar fields as
Chroma metadata and its chunk ids as the stored document (JSON). The collection's own metadata
carries the published index version. Chroma requires an embedding per row, so each record gets a
constant one-dimensional vector that nothing ever searches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from gcot.settings import Visibility

ALL_VISIBILITIES: tuple[str, ...] = get_args(Visibility)
_RANK = {visibility: rank for rank, visibility in enumerate(ALL_VISIBILITIES)}
RESTRICTED = ALL_VISIBILITIES[-1]
"""The most restricted visibility (`internal`): what a missing or unknown value is read as."""
_PAGE = 5000


def normalise_visibility(value: object) -> str:
    """`value` if it is a known visibility, else the most restricted one (fail closed)."""
    return value if isinstance(value, str) and value in _RANK else RESTRICTED


def most_restricted(*values: object) -> str:
    """The most restricted of several visibility values (unknown ones count as `internal`)."""
    return max((normalise_visibility(v) for v in values), key=_RANK.__getitem__)


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DocumentRecord:
    """One indexed document as the store knows it.

    Attributes:
        doc_id: the document's id (unique in the index).
        title, visibility, topics, source_url, published: its metadata as indexed.
        updated_at: ISO-8601 UTC time its content or metadata last changed in the index.
        chunk_ids: ids of its chunks, in document order.
        path: the source file it was ingested from (as seen by the ingest host).
        file_hash: hash of the file bytes and metadata files (lets a re-run skip loading it).
        content_hash: hash of what is embedded (text, headings, title, chunk settings).
        metadata_hash: hash of the chunk metadata (a change here alone re-embeds nothing).
        visibility_from: where its visibility came from (`front matter`, `sidecar`, a `_meta.yaml`
            path, or `GCOT_DEFAULT_VISIBILITY` when no metadata stated one).
    """

    doc_id: str
    title: str = ""
    visibility: str = RESTRICTED
    topics: tuple[str, ...] = ()
    source_url: str = ""
    published: str = ""
    updated_at: str = ""
    chunk_ids: tuple[str, ...] = field(default_factory=tuple)
    path: str = ""
    file_hash: str = ""
    content_hash: str = ""
    metadata_hash: str = ""
    visibility_from: str = ""

    def to_chroma(self) -> tuple[dict[str, Any], str]:
        metadata = {
            "doc_id": self.doc_id, "title": self.title, "visibility": self.visibility,
            "topics": ",".join(self.topics), "source_url": self.source_url, "published": self.published,
            "updated_at": self.updated_at, "path": self.path, "file_hash": self.file_hash,
            "content_hash": self.content_hash, "metadata_hash": self.metadata_hash, "visibility_from": self.visibility_from,
            "chunks": len(self.chunk_ids),
        }
        return metadata, json.dumps({"chunk_ids": list(self.chunk_ids)})

    @classmethod
    def from_chroma(cls, doc_id: str, metadata: dict[str, Any] | None, document: str | None) -> DocumentRecord:
        meta = dict(metadata or {})
        try:
            chunk_ids = tuple(json.loads(document or "{}").get("chunk_ids", []))
        except ValueError:
            chunk_ids = ()
        return cls(
            doc_id=doc_id,
            title=str(meta.get("title", "")),
            visibility=normalise_visibility(meta.get("visibility")),
            topics=tuple(t for t in str(meta.get("topics", "")).split(",") if t),
            source_url=str(meta.get("source_url", "")),
            published=str(meta.get("published", "")),
            updated_at=str(meta.get("updated_at", "")),
            chunk_ids=chunk_ids,
            path=str(meta.get("path", "")),
            file_hash=str(meta.get("file_hash", "")),
            content_hash=str(meta.get("content_hash", "")),
            metadata_hash=str(meta.get("metadata_hash", "")),
            visibility_from=str(meta.get("visibility_from", "")),
        )


def index_version(records: Iterable[DocumentRecord]) -> str:
    """The version of an index state: changes with any chunk id, visibility or metadata change.

    Deterministic, so two hosts that index the same documents publish the same version.
    """
    lines = sorted(f"{r.doc_id}|{r.visibility}|{r.metadata_hash}|{','.join(r.chunk_ids)}" for r in records)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


class RecordStore:
    """The records collection: read all, put, remove, and the published version stamp."""

    def __init__(self, client: Any, name: str, *, create: bool) -> None:
        self._client = client
        self.name = name
        if create:
            self._collection = client.get_or_create_collection(name, embedding_function=None)
        else:
            self._collection = client.get_collection(name, embedding_function=None)

    def all(self) -> dict[str, DocumentRecord]:
        records: dict[str, DocumentRecord] = {}
        offset = 0
        while True:
            page = self._collection.get(include=["metadatas", "documents"], limit=_PAGE, offset=offset)
            for doc_id, meta, document in zip(page["ids"], page["metadatas"], page["documents"], strict=True):
                records[doc_id] = DocumentRecord.from_chroma(doc_id, meta, document)
            if len(page["ids"]) < _PAGE:
                return records
            offset += _PAGE

    def put(self, record: DocumentRecord) -> None:
        metadata, document = record.to_chroma()
        self._collection.upsert(ids=[record.doc_id], embeddings=[[1.0]], metadatas=[metadata], documents=[document])

    def remove(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self._collection.delete(ids=list(doc_ids))

    def stamp(self) -> dict[str, Any]:
        """The collection metadata as stored now (re-read: a cached handle would be stale)."""
        return dict(self._client.get_collection(self.name, embedding_function=None).metadata or {})

    def version(self) -> str | None:
        value = self.stamp().get("index_version")
        return str(value) if value else None

    def publish(self, version: str, **extra: Any) -> None:
        stamp = {**self.stamp(), "index_version": version, "published_at": utc_now(), **extra}
        self._collection.modify(metadata=stamp)

    def heartbeat(self) -> bool:
        try:
            self._collection.count()
        except Exception:  # any transport or storage failure means "not ready"
            return False
        return True
