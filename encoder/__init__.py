"""Text -> vectors with the configured embedding model; used by ingest (documents) and bot (queries)."""

from encoder.embedder import Embedder, model_info, offline_env

__all__ = ["Embedder", "model_info", "offline_env"]
