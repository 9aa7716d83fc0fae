"""Baselines evaluated beside the assistant, on the same questions and the same index.

Both implement the runner's one-method protocol, `ask(question, *, audience, history) -> Answer`:

- `Bm25Baseline`: BM25 only (the project's lexical index, filtered by the audience), the top 4
  chunks stuffed into the answer.
- `NaiveLangChainBaseline`: the recipe a user would write first: `langchain_chroma.Chroma` over the
  same chunk collections (one per visibility, all searched) with the same model's embeddings,
  similarity search, no filter, no threshold, the chunks stuffed into the answer. It ignores the
  audience on purpose; the leaks it shows are the finding.

Both retrieve 10 chunks so retrieval metrics (hit@5, MRR@10) are measured at the same depth as for
the assistant; the answer uses the top 4, as the recipes do. Neither ever declines.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import Answer, Citation, RetrievedChunk, Turn
from gcot.settings import Settings

STUFFED = 4
DEPTH = 10


def stuffed_answer(question: str, audience: str, hits: Sequence[RetrievedChunk], *, generator: str, k: int = STUFFED) -> Answer:
    """An answer whose text is the top-k chunks concatenated, each cited; always "answered"."""
    top = list(hits[:k])
    return Answer(
        status="answered",
        text="\n\n".join(f"[{n}] {hit.text}" for n, hit in enumerate(top, 1)),
        citations=[
            Citation(
                n=n,
                doc_id=hit.doc_id,
                title=str(hit.metadata.get("title", "")),
                source_url=str(hit.metadata.get("source_url", "")),
                snippet=hit.text[:300],
                heading=str(hit.metadata.get("heading", "")),
                chunk_id=hit.chunk_id,
            )
            for n, hit in enumerate(top, 1)
        ],
        audience=audience,
        question=question,
        standalone_question=question,
        generator=generator,
        confidence=1.0,
        retrieved=list(hits),
    )


class Bm25Baseline:
    """BM25 over the project's lexical index, filtered to what the audience may read.

    Args:
        retriever: a loaded `HybridRetriever` (its lexical index is used, mode "bm25").
        settings: for the audience -> visibilities mapping.
    """

    name = "bm25"
    label = "BM25 only"

    def __init__(self, retriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer:
        hits = self.retriever.search(question, k=DEPTH, visibilities=self.settings.visibilities_for(audience), mode="bm25")
        return stuffed_answer(question, audience, hits, generator=self.name)


class EncoderEmbeddings:
    """The LangChain `Embeddings` interface over the project's query encoder (`load_embedder`).

    The naive recipe's `HuggingFaceEmbeddings` loads torch and sentence-transformers (seconds of
    import and hundreds of MiB) to embed a few hundred short questions; the query encoder embeds the
    same model's vectors with ONNX Runtime (int8 by default, torch only if no export can be made).
    Duck-typed rather than subclassed so importing this module does not import LangChain.
    """

    def __init__(self, settings: Settings, *, embedder=None) -> None:
        from encoder import load_embedder

        self.embedder = embedder or load_embedder(settings, purpose="query")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


class NaiveLangChainBaseline:
    """Dense similarity search through LangChain over the same Chroma collections, no filter.

    Args:
        settings: where the index is; the collection name and model come from it.
        embeddings: a LangChain `Embeddings`. Defaults to `EncoderEmbeddings`: the configured model's
            normalised embeddings (as the index was built) from the query encoder, not torch.
    """

    name = "naive_langchain"
    label = "Naive LangChain"

    def __init__(self, settings: Settings, *, embeddings=None) -> None:
        from langchain_chroma import Chroma

        from encoder import model_info, offline_env
        from store import ALL_VISIBILITIES
        from store.chroma import chroma_client, chunk_collection_name, collection_name

        offline_env()
        if embeddings is None:
            embeddings = EncoderEmbeddings(settings)
        base = collection_name(settings.collection_prefix, *model_info(settings.model_path()))
        client = chroma_client(settings)
        # The index keeps one collection per visibility; the naive recipe searches all of them, unfiltered.
        self.stores = [
            Chroma(client=client, collection_name=chunk_collection_name(base, visibility), embedding_function=embeddings)
            for visibility in ALL_VISIBILITIES
        ]

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer:
        scored = [pair for store in self.stores for pair in store.similarity_search_with_score(question, k=DEPTH)]
        scored.sort(key=lambda pair: pair[1])  # a distance: smaller is closer
        hits = [
            RetrievedChunk(
                chunk_id=str(doc.id or ""),
                doc_id=str(doc.metadata.get("doc_id", "")),
                visibility=str(doc.metadata.get("visibility", "internal")),
                score=1.0 / rank,
                text=doc.page_content,
                metadata=dict(doc.metadata),
            )
            for rank, (doc, _distance) in enumerate(scored[:DEPTH], 1)
        ]
        return stuffed_answer(question, audience, hits, generator=self.name)
