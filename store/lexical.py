"""The lexical (BM25) index: derived from the chunk texts stored in Chroma, cached locally by version.

Chroma is the truth; this index can always be rebuilt from it alone (`LexicalIndex.build` over the
stored chunks). Each built version is cached under `<data dir>/lexical/<store key>/<version>/`, the
version being the index version Chroma publishes, so any host or a host with an empty data dir
gets the same index. Versions that are no longer current are deleted only once unused for a grace
period (`lexical_cache_grace_s`), so a reader still loading one never sees it vanish.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gcot.settings import Settings
from store.chroma import StoredChunk, store_key
from store.records import normalise_visibility

_STOPWORDS = "en"
_TOKEN_CACHE_SIZE = 50_000
"""Texts whose tokens one index keeps: answering tokenises the same evidence sentences again and again,
and each bm25s call costs ~0.3 ms (it builds progress bars even when they are off)."""


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords=_STOPWORDS, stemmer=_stemmer(), return_ids=False, show_progress=False)


class LexicalIndex:
    """BM25 over chunk texts, searchable with an audience mask."""

    def __init__(self, bm25, chunk_ids: list[str], visibilities: list[str], doc_ids: list[str], version: str) -> None:
        self.bm25 = bm25
        self.chunk_ids = chunk_ids
        self.visibilities = np.asarray(visibilities)
        self.doc_ids = doc_ids
        self.version = version
        self._stem = _stemmer()
        self._masks: dict[tuple[str, ...], np.ndarray] = {}
        self._position = {chunk_id: i for i, chunk_id in enumerate(chunk_ids)}
        self._tokens: dict[str, list[str]] = {}
        # Chunks per vocabulary token: bm25s keeps its postings as a CSC matrix, one column per token.
        self._df = np.diff(np.asarray(bm25.scores["indptr"])) if chunk_ids else np.zeros(0, dtype=np.int64)

    @classmethod
    def build(cls, chunks: Iterable[StoredChunk], *, version: str, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """BM25 over `chunks`, labelled with the index `version` they belong to."""
        import bm25s

        ids, texts, visibilities, doc_ids = [], [], [], []
        for chunk in chunks:
            ids.append(chunk.chunk_id)
            # Title and heading are indexed with the body: they carry the words people search by.
            texts.append(f"{chunk.metadata.get('title', '')}\n{chunk.metadata.get('heading', '')}\n{chunk.text}")
            # Fail closed: a missing or unknown visibility is read as `internal` (staff only).
            visibilities.append(normalise_visibility(chunk.metadata.get("visibility")))
            doc_ids.append(str(chunk.metadata.get("doc_id", "")))
        bm25 = bm25s.BM25(k1=k1, b=b)
        if texts:
            bm25.index(tokenize(texts), show_progress=False)
        return cls(bm25, ids, visibilities, doc_ids, version)

    def _mask(self, visibilities: Sequence[str] | None) -> np.ndarray | None:
        if visibilities is None:
            return None
        key = tuple(sorted(visibilities))
        if key not in self._masks:
            self._masks[key] = np.isin(self.visibilities, key).astype(np.float32)
        return self._masks[key]

    def raw_tokens(self, text: str) -> list[str]:
        """Stemmed, stopword-free tokens of `text`, known to the index or not."""
        tokens = self._tokens.get(text)
        if tokens is None:
            import bm25s

            tokens = bm25s.tokenize([text], stopwords=_STOPWORDS, stemmer=self._stem, return_ids=False, show_progress=False)[0]
            if len(self._tokens) >= _TOKEN_CACHE_SIZE:
                self._tokens.clear()  # bounded: a long-running process must not grow without limit
            self._tokens[text] = tokens
        return list(tokens)

    def query_tokens(self, text: str) -> list[str]:
        """Stemmed, stopword-free tokens of `text` that occur in the index vocabulary."""
        if not self.chunk_ids:
            return []
        return [token for token in self.raw_tokens(text) if token in self.bm25.vocab_dict]

    def token_frequency(self, token: str) -> int:
        """In how many chunks an index token (stemmed, as `query_tokens` gives it) occurs; 0 if none does."""
        index = self.bm25.vocab_dict.get(token) if self.chunk_ids else None
        return int(self._df[index]) if index is not None and index < len(self._df) else 0

    def document_frequency(self, word: str) -> int:
        """In how many chunks the (first, stemmed) token of `word` occurs; 0 for a word the index lacks."""
        tokens = self.query_tokens(word)
        return self.token_frequency(tokens[0]) if tokens else 0

    def vocabulary(self, visibilities: Sequence[str] | None = None) -> frozenset[str]:
        """Tokens that occur in at least one chunk the visibilities allow."""
        key = ("vocab", *sorted(visibilities or ()))
        if key not in self._masks:
            if not self.chunk_ids:
                self._masks[key] = frozenset()
            elif visibilities is None:
                self._masks[key] = frozenset(self.bm25.vocab_dict)
            else:
                allowed = np.isin(self.visibilities, list(visibilities))
                indptr = np.asarray(self.bm25.scores["indptr"])
                hits = np.concatenate([[0], np.cumsum(allowed[np.asarray(self.bm25.scores["indices"])])])
                present = (hits[indptr[1:]] - hits[indptr[:-1]]) > 0
                by_index = {index: token for token, index in self.bm25.vocab_dict.items()}
                self._masks[key] = frozenset(by_index[i] for i in np.flatnonzero(present) if i in by_index)
        return self._masks[key]

    def _scores(self, query: str, visibilities: Sequence[str] | None) -> np.ndarray | None:
        tokens = self.query_tokens(query) if self.chunk_ids else []
        if not tokens:
            return None
        scores = self.bm25.get_scores(tokens)
        mask = self._mask(visibilities)
        return scores * mask if mask is not None else scores

    def scores_for(self, query: str, chunk_ids: Sequence[str], *, visibilities: Sequence[str] | None = None) -> dict[str, float]:
        """BM25 scores of specific chunks (0 for chunks the visibilities forbid)."""
        scores = self._scores(query, visibilities)
        if scores is None:
            return dict.fromkeys(chunk_ids, 0.0)
        return {cid: float(scores[self._position[cid]]) if cid in self._position else 0.0 for cid in chunk_ids}

    def search(self, query: str, *, k: int = 20, visibilities: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) for the top-k chunks the visibilities allow; forbidden chunks score 0."""
        scores = self._scores(query, visibilities)
        if scores is None:
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # --- persistence ---------------------------------------------------------------------------

    def save(self, root: Path) -> Path:
        """Write this version under `root/<version>/` (atomically: a reader sees all of it or none)."""
        folder = root / self.version
        staging = root / f".{self.version}.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self.chunk_ids:
            self.bm25.save(str(staging / "bm25"))
        (staging / "chunks.json").write_text(
            json.dumps({"ids": self.chunk_ids, "visibility": self.visibilities.tolist(), "doc_ids": self.doc_ids})
        )
        if folder.is_dir():  # another process cached the same version first: same content, keep theirs
            shutil.rmtree(staging, ignore_errors=True)
            return folder
        try:
            os.replace(staging, folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    @classmethod
    def load(cls, root: Path, version: str) -> LexicalIndex:
        """The cached `version` under `root`. Raises FileNotFoundError when it is not cached."""
        import bm25s

        folder = root / version
        if not (folder / "chunks.json").is_file():
            msg = f"lexical index version {version} is not cached under {root}"
            raise FileNotFoundError(msg)
        os.utime(folder)  # marks it in use, so the grace period restarts
        data = json.loads((folder / "chunks.json").read_text())
        bm25 = bm25s.BM25.load(str(folder / "bm25")) if data["ids"] else bm25s.BM25()
        return cls(bm25, data["ids"], data["visibility"], data["doc_ids"], version)

    @staticmethod
    def cached_versions(root: Path) -> list[str]:
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []

    @staticmethod
    def prune_cache(root: Path, *, keep: str, grace_s: float) -> list[str]:
        """Delete cached versions other than `keep` that nobody created or loaded for `grace_s` seconds."""
        removed = []
        cutoff = time.time() - grace_s
        for folder in root.iterdir() if root.is_dir() else []:
            if folder.name == keep or not folder.is_dir():
                continue
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder.name)
            except FileNotFoundError:
                continue
        return removed


def lexical_dir(settings: Settings, collection: str) -> Path:
    """Where the lexical index versions of one (Chroma location, collection) pair live."""
    return settings.data_dir / "lexical" / store_key(settings, collection)
