"""The TF-IDF featurizer and its export, with the heads, as one ONNX graph taking raw text.

Graph: `text` (string [N, 1]) → skl2onnx FeatureUnion(word 1-2-gram TF-IDF, char 2-4-gram
TF-IDF, each L2-normalised) → linear heads + bias → Sigmoid → `probabilities` [N, H]. The
heads' (calibrated) coefficients are folded in, so the graph is the whole classifier.

Two scikit-learn/skl2onnx mismatches are avoided by construction: the word tokenizer is
`[a-zA-Z0-9_]+` on both sides (skl2onnx replaces sklearn's default `\\b\\w\\w+\\b` by it), and
TF is binary (skl2onnx's sublinear TF computes log(1+tf), not sklearn's 1+log(tf)). The
vocabulary is closed under n-gram prefixes (onnxruntime only finds an n-gram whose prefix is
in the pool). Whitespace is collapsed before scoring (`router.classifier.normalize`), as
sklearn's char analyzer does internally and the ONNX graph does not.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

WORD_PATTERN = r"[a-zA-Z0-9_]+"
OPSET = 17


def _word(vocabulary: dict[str, int] | None = None, max_features: int | None = None) -> Any:
    return TfidfVectorizer(
        token_pattern=WORD_PATTERN,
        ngram_range=(1, 2),
        binary=True,
        min_df=2,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _char(vocabulary: dict[str, int] | None = None, max_features: int | None = None) -> Any:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(2, 4),
        binary=True,
        min_df=2,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _prefix_closed(terms: list[str], *, sep: str, min_n: int) -> dict[str, int]:
    """Add every prefix of each n-gram (down to `min_n` units) so onnxruntime can match it."""
    closed = set(terms)
    for term in terms:
        units = term.split(sep) if sep else list(term)
        for n in range(min_n, len(units)):
            closed.add(sep.join(units[:n]))
    return {term: i for i, term in enumerate(sorted(closed))}


def fit_featurizer(texts: list[str], word_features: int, char_features: int) -> FeatureUnion:
    """Fit both vectorizers on normalised texts, close their vocabularies, refit the IDF."""
    word = _word(max_features=word_features).fit(texts)
    char = _char(max_features=char_features).fit(texts)
    word_vocab = _prefix_closed(list(word.vocabulary_), sep=" ", min_n=1)
    char_vocab = _prefix_closed(list(char.vocabulary_), sep="", min_n=2)
    union = FeatureUnion([("word", _word(word_vocab)), ("char", _char(char_vocab))])
    union.fit(texts)
    return union


def export(
    featurizer: FeatureUnion,
    weights: NDArray[np.float32],
    bias: NDArray[np.float32],
    heads: list[str],
    metadata: dict[str, str],
) -> Any:
    """The ONNX model (onnx.ModelProto) for featurizer + linear heads with a sigmoid.

    skl2onnx's per-block L2 `Normalizer` + `Concat` + a dense MatMul cost ~0.4 ms for 40k
    features on this CPU, so they are replaced by the equivalent sum over blocks of
    (x_i · w_i) / max(||x_i||, 1e-12), the dot product written as Mul + ReduceSum.
    """
    from onnx import TensorProto, helper, numpy_helper
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    options = {id(step): {"locale": "C.UTF-8"} for _, step in featurizer.transformer_list}
    model = convert_sklearn(
        featurizer,
        initial_types=[("text", StringTensorType([None, 1]))],
        options=options,
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    graph = model.graph
    normalizers = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Normalizer"}
    (concat,) = [n for n in graph.node if n.op_type == "Concat"]
    blocks = [normalizers[name] for name in concat.input]
    sizes = [len(step.vocabulary_) for _, step in featurizer.transformer_list]
    kept = [n for n in graph.node if n.op_type not in ("Normalizer", "Concat")]
    del graph.node[:]
    graph.node.extend(kept)
    constants: dict[str, NDArray[Any]] = {
        "head_axis1": np.array([1], dtype=np.int64),
        "head_axis2": np.array([2], dtype=np.int64),
        "head_eps": np.array([1e-12], dtype=np.float32),
        "head_bias": bias.astype(np.float32),
    }
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    terms = []
    offset = 0
    for i, (block, size) in enumerate(zip(blocks, sizes, strict=True)):
        block_weights = np.ascontiguousarray(weights[offset : offset + size].T, dtype=np.float32)
        offset += size
        graph.initializer.append(numpy_helper.from_array(block_weights, f"head_w{i}"))
        graph.node.extend(
            [
                helper.make_node("Unsqueeze", [block, "head_axis1"], [f"head_x{i}"]),
                helper.make_node("Mul", [f"head_x{i}", f"head_w{i}"], [f"head_prod{i}"]),
                helper.make_node(
                    "ReduceSum", [f"head_prod{i}", "head_axis2"], [f"head_dot{i}"], keepdims=0
                ),
                helper.make_node("ReduceL2", [block], [f"head_norm{i}"], axes=[1], keepdims=1),
                helper.make_node("Max", [f"head_norm{i}", "head_eps"], [f"head_safe{i}"]),
                helper.make_node("Div", [f"head_dot{i}", f"head_safe{i}"], [f"head_term{i}"]),
            ]
        )
        terms.append(f"head_term{i}")
    if offset != weights.shape[0]:
        raise ValueError(f"weights have {weights.shape[0]} rows, features are {offset}")
    graph.node.extend(
        [
            helper.make_node("Sum", [*terms, "head_bias"], ["head_logits"]),
            helper.make_node("Sigmoid", ["head_logits"], ["probabilities"]),
        ]
    )
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(heads)])
    )
    graph.name = "hybridgw_router_classifier"
    model.doc_string = "Prompt classifier of hybrid-gateway: difficulty and sensitivity."
    helper.set_model_props(model, {"heads": json.dumps(heads), **metadata})
    return model
