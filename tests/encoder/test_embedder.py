"""The torch embedder's span pooling: sentence vectors read off a document's own forward pass."""

from __future__ import annotations

import numpy as np


def test_span_vectors_pool_the_tokens_inside_each_span(embedder) -> None:
    texts = ["Harbour cranes lift containers. The canteen serves soup.", "Relays carry signals."]
    spans = [[(0, 31), (32, len(texts[0]))], [(0, 6), (500, 600)]]

    documents, pooled = embedder.embed_documents_and_spans(texts, spans)

    assert np.allclose(documents, embedder.embed_documents(texts), atol=1e-5)
    tokens = embedder.model.encode(texts[0], output_value="token_embeddings", convert_to_numpy=True)
    offsets = np.array(embedder.model.tokenizer(texts[0], return_offsets_mapping=True)["offset_mapping"])
    inside = (offsets[:, 1] > offsets[:, 0]) & (offsets[:, 0] >= 32)  # "The canteen serves soup." without [SEP]
    expected = tokens[inside].mean(axis=0)
    assert np.allclose(pooled[0][1], expected / np.linalg.norm(expected), atol=1e-5)
    assert [row.shape for row in pooled] == [(2, 384), (2, 384)]
    assert np.isclose(np.linalg.norm(pooled[1][0]), 1.0) and not pooled[1][1].any()  # past the text: no tokens, a zero row
