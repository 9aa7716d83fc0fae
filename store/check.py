"""`gcot index check`: do Chroma's chunks, the per-document records and the lexical index agree?

Drift kinds reported:
- `orphan_chunk`: a chunk no current document names (or sitting in another visibility's collection);
- `missing_chunk`: a document whose record names a chunk its collection does not hold;
- `duplicate_chunk`: a chunk id two records name;
- `visibility_mismatch`: a chunk whose metadata visibility differs from its collection's;
- `version_stale`: the published version is not the version of the records as they are;
- `lexical_mismatch`: the cached lexical index of the published version holds other ids (or
  visibilities) than Chroma.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TypedDict

from gcot.settings import Settings
from store.chroma import chroma_client, collection_name, open_chunk_collections, records_collection_name
from store.lexical import LexicalIndex, lexical_dir
from store.records import RecordStore, index_version, normalise_visibility

_LISTED = 50


class Problem(TypedDict, total=False):
    kind: str
    doc_id: str
    chunk_id: str
    collection: str
    detail: str


class CheckResult(TypedDict):
    clean: bool
    version: str | None
    expected_version: str
    documents: int
    chunks: int
    lexical: str
    """`cached` (compared) or `not cached` (a reader rebuilds it from Chroma, so nothing can differ)."""
    counts: dict[str, int]
    problems: list[Problem]
    """The first 50 problems; `counts` has the totals per kind."""


def check_index(settings: Settings, *, model_name: str | None = None, dimension: int | None = None) -> CheckResult:
    """Compare Chroma, the records and the lexical index of the configured model's index.

    Raises:
        FileNotFoundError: when there is no index to check.
    """
    if model_name is None or dimension is None:
        from encoder import model_info

        model_name, dimension = model_info(settings.model_path())
    base = collection_name(settings.collection_prefix, model_name, dimension)
    client = chroma_client(settings)
    try:
        records_store = RecordStore(client, records_collection_name(base), create=False)
        collections = open_chunk_collections(client, settings, base, create=False)
    except Exception as exc:  # Chroma's NotFoundError types differ between clients
        msg = f"no index for model {model_name!r} (run `gcot ingest` first)"
        raise FileNotFoundError(msg) from exc
    records = records_store.all()
    problems: list[Problem] = []
    expected: dict[str, tuple[str, str]] = {}
    for record in records.values():
        for chunk_id in record.chunk_ids:
            if chunk_id in expected:
                problems.append({"kind": "duplicate_chunk", "doc_id": record.doc_id, "chunk_id": chunk_id})
            expected[chunk_id] = (normalise_visibility(record.visibility), record.doc_id)

    stored: dict[str, set[str]] = {}
    total = 0
    for visibility, store in collections.items():
        ids = set()
        for chunk_id, metadata in _ids_and_metadata(store.collection):
            ids.add(chunk_id)
            want = expected.get(chunk_id)
            if want is None or want[0] != visibility:
                problems.append({"kind": "orphan_chunk", "chunk_id": chunk_id, "collection": store.name,
                                 "doc_id": str(metadata.get("doc_id", "")),
                                 "detail": "no current document names it" if want is None else f"belongs in {want[0]}"})
            elif metadata.get("visibility") != visibility:
                problems.append({"kind": "visibility_mismatch", "chunk_id": chunk_id, "collection": store.name,
                                 "detail": f"metadata says {metadata.get('visibility')!r}"})
        stored[visibility] = ids
        total += len(ids)
    for record in records.values():
        held = stored[normalise_visibility(record.visibility)]
        for chunk_id in record.chunk_ids:
            if chunk_id not in held:
                problems.append({"kind": "missing_chunk", "doc_id": record.doc_id, "chunk_id": chunk_id})

    published = records_store.version()
    wanted = index_version(records.values())
    if published != wanted:
        problems.append({"kind": "version_stale", "detail": f"published {published}, records are at {wanted}"})
    lexical_state = _check_lexical(settings, base, published, expected, problems)
    counts = dict(Counter(p["kind"] for p in problems))
    return CheckResult(clean=not problems, version=published, expected_version=wanted, documents=len(records),
                       chunks=total, lexical=lexical_state, counts=counts, problems=problems[:_LISTED])


def _ids_and_metadata(collection: Any, page_size: int = 5000):
    offset = 0
    while True:
        page = collection.get(include=["metadatas"], limit=page_size, offset=offset)
        yield from zip(page["ids"], (dict(m or {}) for m in page["metadatas"]), strict=True)
        if len(page["ids"]) < page_size:
            return
        offset += page_size


def _check_lexical(settings: Settings, base: str, version: str | None, expected: dict[str, tuple[str, str]],
                   problems: list[Problem]) -> str:
    root = lexical_dir(settings, base)
    if not version or version not in LexicalIndex.cached_versions(root):
        return "not cached"
    lexical = LexicalIndex.load(root, version)
    pairs = dict(zip(lexical.chunk_ids, lexical.visibilities.tolist(), strict=True))
    for chunk_id in sorted(set(pairs) - set(expected)):
        problems.append({"kind": "lexical_mismatch", "chunk_id": chunk_id, "detail": "in BM25, not in Chroma's records"})
    for chunk_id in sorted(set(expected) - set(pairs)):
        problems.append({"kind": "lexical_mismatch", "chunk_id": chunk_id, "detail": "in Chroma's records, not in BM25"})
    for chunk_id in sorted(set(pairs) & set(expected)):
        if pairs[chunk_id] != expected[chunk_id][0]:
            problems.append({"kind": "lexical_mismatch", "chunk_id": chunk_id,
                             "detail": f"BM25 visibility {pairs[chunk_id]}, Chroma {expected[chunk_id][0]}"})
    return "cached"
