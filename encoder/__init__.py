"""Text -> vectors with the configured embedding model; used by ingest (documents) and bot (queries).

`load_embedder(settings, purpose=...)` picks the implementation: the ONNX Runtime export for queries
(no torch in serving processes), sentence-transformers on torch for documents and as the fallback.
Importing this package loads neither torch nor onnxruntime.
"""

from encoder.embedder import Embedder, model_info, offline_env
from encoder.factory import load_embedder

__all__ = ["Embedder", "load_embedder", "model_info", "offline_env"]
