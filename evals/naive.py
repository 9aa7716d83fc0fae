"""The naive recipe a user would write first over a folder of PDFs, as eval baselines.

pypdf text of every page joined, LangChain `RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)`, all-MiniLM-L6-v2 (normalised, cut at its 256-token window as the recipe does
silently; embedded with the project's query encoder, ONNX, so the eval needs no torch) and BM25
(the project's bm25s index over the chunk text alone: English stop words and stemming). Built in
memory from the `--corpus` folders, so it shares nothing with the assistant's extraction or
chunking; doc_ids follow the ingest job's rule so both are scored on the same ids.

Systems (all retrieve 10 chunks and stuff the top 4 into the answer, like `evals.baselines`):
    naive_bm25   BM25 only
    naive_dense  dense only
    naive_rrf    reciprocal-rank fusion (k=60) of both, top 100 of each
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.types import Answer, RetrievedChunk, Turn
from evals.baselines import DEPTH, stuffed_answer
from gcot.settings import Settings

NAIVE_SYSTEMS = ("naive_bm25", "naive_dense", "naive_rrf")
NAIVE_LABELS = {"naive_bm25": "Naive PDF BM25", "naive_dense": "Naive PDF dense", "naive_rrf": "Naive PDF RRF"}
_RRF_K = 60
_CANDIDATES = 100


def _file_text(path: Path, root: Path) -> str:
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(path.read_bytes())).pages)
    from ingest.loaders import load_document

    return load_document(path, root).text


def naive_chunks(corpus: Sequence[Path]) -> list[tuple[str, str, str]]:
    """(chunk_id, doc_id, text) for every 1,000-character chunk of every supported file under `corpus`."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.loaders import SUPPORTED_SUFFIXES
    from ingest.metadata import default_doc_id

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[tuple[str, str, str]] = []
    for folder in corpus:
        root = Path(folder).resolve()
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)
        for path in files:
            base = root.parent if root.is_file() else root
            doc_id = default_doc_id(path, base)
            for index, text in enumerate(splitter.split_text(_file_text(path, base))):
                chunks.append((f"{doc_id}:naive:{index:05d}", doc_id, text))
    return chunks


class NaiveIndex:
    """BM25 and dense search over the naive chunks (built once, shared by the three systems)."""

    def __init__(self, corpus: Sequence[Path], settings: Settings, *, embedder=None) -> None:
        from encoder import load_embedder
        from store.chroma import StoredChunk
        from store.lexical import LexicalIndex

        self.chunks = naive_chunks(corpus)
        self.by_id = {chunk_id: (doc_id, text) for chunk_id, doc_id, text in self.chunks}
        stored = [StoredChunk(cid, text, {"doc_id": doc, "visibility": "public"}) for cid, doc, text in self.chunks]
        self.lexical = LexicalIndex.build(stored, version="naive")
        # The query encoder embeds the chunks too: a few hundred in-memory chunks do not justify importing
        # torch (the ingest's document encoder) in an eval that otherwise never needs it.
        self.embedder = embedder or load_embedder(settings, purpose="query")
        self.vectors = np.asarray(self.embedder.embed_documents([text for _, _, text in self.chunks]), dtype=np.float32)
        self.ids = [cid for cid, _, _ in self.chunks]

    def dense(self, query: str, k: int) -> list[tuple[str, float]]:
        scores = self.vectors @ np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        top = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in top]

    def bm25(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.lexical.search(query, k=k)

    def rrf(self, query: str, k: int) -> list[tuple[str, float]]:
        fused: dict[str, float] = {}
        for ranking in (self.dense(query, _CANDIDATES), self.bm25(query, _CANDIDATES)):
            for rank, (chunk_id, _) in enumerate(ranking, 1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (_RRF_K + rank)
        return sorted(fused.items(), key=lambda item: -item[1])[:k]


class NaiveBaseline:
    """One retriever of the naive recipe as an eval system (ignores the audience, never declines)."""

    def __init__(self, name: str, index: NaiveIndex) -> None:
        self.name = name
        self.label = NAIVE_LABELS[name]
        self.index = index
        self._search = {"naive_bm25": index.bm25, "naive_dense": index.dense, "naive_rrf": index.rrf}[name]

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer:
        hits = [
            RetrievedChunk(chunk_id=cid, doc_id=self.index.by_id[cid][0], visibility="public", score=score, text=self.index.by_id[cid][1])
            for cid, score in self._search(question, DEPTH)
        ]
        return stuffed_answer(question, audience, hits, generator=self.name)


def naive_systems(names: Sequence[str], corpus: Sequence[Path], settings: Settings) -> dict[str, NaiveBaseline]:
    """The requested naive systems over `corpus` (the index is built only if one is requested)."""
    wanted = [name for name in names if name in NAIVE_SYSTEMS]
    if not wanted:
        return {}
    if not corpus:
        msg = f"{', '.join(wanted)} need --corpus (the naive recipe is built from the source files)"
        raise ValueError(msg)
    index = NaiveIndex(corpus, settings)
    return {name: NaiveBaseline(name, index) for name in wanted}
