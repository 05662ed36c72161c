"""The static-embedding ONNX graph equals its numpy definition (masked mean, L2, heads)."""

from __future__ import annotations

import numpy as np

from training.router.static_embed import embed
from training.router.static_onnx import export_static


def test_static_graph_matches_numpy_mean_pooling() -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    table = rng.normal(size=(50, 8)).astype(np.float16).astype(np.float32)
    weights = rng.normal(size=(8, 3)).astype(np.float32)
    bias = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    model = export_static(table, weights, bias, ["a", "b", "c"], {"version": "t"})
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    token_ids = [[3, 7, 7, 21], [5], [9, 2]]
    ids = np.zeros((3, 4), dtype=np.int64)
    mask = np.zeros((3, 4), dtype=np.float32)
    for i, row in enumerate(token_ids):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1.0
    (got,) = session.run(["probabilities"], {"ids": ids, "mask": mask})
    expected = 1.0 / (1.0 + np.exp(-(embed(table, token_ids) @ weights + bias)))
    assert np.abs(got - expected).max() < 1e-5


def test_surface_features_join_the_embedding_before_the_heads() -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(1)
    table = rng.normal(size=(30, 4)).astype(np.float16).astype(np.float32)
    weights = rng.normal(size=(4 + 2, 2)).astype(np.float32)
    bias = np.array([0.2, -0.1], dtype=np.float32)
    model = export_static(table, weights, bias, ["a", "b"], {"version": "t"}, ("f1", "f2"))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ids = np.array([[1, 2, 3], [4, 0, 0]], dtype=np.int64)
    mask = np.array([[1, 1, 1], [1, 0, 0]], dtype=np.float32)
    surface = np.array([[0.5, 1.0], [0.0, 2.0]], dtype=np.float32)
    (got,) = session.run(["probabilities"], {"ids": ids, "mask": mask, "features": surface})
    joined = np.hstack([embed(table, [[1, 2, 3], [4]]), surface])
    expected = 1.0 / (1.0 + np.exp(-(joined @ weights + bias)))
    assert np.abs(got - expected).max() < 1e-5
