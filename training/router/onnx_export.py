"""The TF-IDF featurizer and its export, with the heads, as one ONNX graph taking raw text.

Graph: `text` (string [N, 1]) → skl2onnx FeatureUnion(word 1-2-gram TF-IDF, char 2-4-gram
TF-IDF, each L2-normalised) → linear heads + bias → Sigmoid → `probabilities` [N, H]. The
heads' (calibrated) coefficients are folded in, so the graph is the whole classifier.

Two scikit-learn/skl2onnx mismatches are avoided by construction: the word tokenizer is
`[a-zA-Z0-9_]+` on both sides (skl2onnx replaces sklearn's default `\\b\\w\\w+\\b` by it), and
TF is binary (skl2onnx's sublinear TF computes log(1+tf), not sklearn's 1+log(tf)). The
vocabulary is closed under sub-n-grams (onnxruntime only finds an n-gram whose parts are in
the pool). Whitespace is collapsed before scoring (`router.classifier.normalize`), as
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


def _closed(terms: list[str], *, sep: str, min_n: int) -> dict[str, int]:
    """Add every contiguous sub-n-gram (of at least `min_n` units) of each term.

    onnxruntime's TfIdfVectorizer misses an n-gram when its parts are not n-grams of the
    pool themselves (e.g. bigram "to keep" without unigram "keep"); sklearn's max_features
    cut can produce such a vocabulary.
    """
    closed = set(terms)
    for term in terms:
        units = term.split(sep) if sep else list(term)
        for n in range(min_n, len(units)):
            for start in range(len(units) - n + 1):
                closed.add(sep.join(units[start : start + n]))
    return {term: i for i, term in enumerate(sorted(closed))}


def fit_featurizer(texts: list[str], word_features: int, char_features: int) -> FeatureUnion:
    """Fit both vectorizers on normalised texts, close their vocabularies, refit the IDF."""
    word = _word(max_features=word_features).fit(texts)
    char = _char(max_features=char_features).fit(texts)
    word_vocab = _closed(list(word.vocabulary_), sep=" ", min_n=1)
    char_vocab = _closed(list(char.vocabulary_), sep="", min_n=2)
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

    skl2onnx's IDF `Mul`, per-block L2 `Normalizer`, `Concat` and a dense MatMul cost ~0.5 ms
    for 40k features on this CPU. They are replaced by exact equivalents: with binary TF
    (t in {0,1}) and x = t*idf, x.w = t.(idf*w) and ||x||^2 = t.idf^2, so one Mul + ReduceSum
    of t against a [heads + 1, F] matrix per block gives the dot products and the norm.
    """
    from onnx import TensorProto, helper
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    if not all(step.binary for _, step in featurizer.transformer_list):
        raise ValueError("the folded export needs binary TF")
    options = {id(step): {"locale": "C.UTF-8"} for _, step in featurizer.transformer_list}
    model = convert_sklearn(
        featurizer,
        initial_types=[("text", StringTensorType([None, 1]))],
        options=options,
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    _replace_tail(model.graph, featurizer, weights, bias)
    graph = model.graph
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(heads)])
    )
    graph.name = "hybridgw_router_classifier"
    model.doc_string = "Prompt classifier of hybrid-gateway: difficulty and sensitivity."
    helper.set_model_props(model, {"heads": json.dumps(heads), **metadata})
    return model


def _replace_tail(
    graph: Any, featurizer: FeatureUnion, weights: NDArray[np.float32], bias: NDArray[np.float32]
) -> None:
    """Swap IDF Mul → Normalizer → Concat for folded linear heads ending in `probabilities`."""
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in graph.initializer}
    producers = {n.output[0]: n for n in graph.node}
    normalizers = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Normalizer"}
    (concat,) = [n for n in graph.node if n.op_type == "Concat"]
    idf_muls = [producers[normalizers[name]] for name in concat.input]
    dropped = {id(n) for n in idf_muls} | {
        id(n) for n in graph.node if n.op_type in ("Normalizer", "Concat")
    }
    kept = [n for n in graph.node if id(n) not in dropped]
    del graph.node[:]
    graph.node.extend(kept)
    n_heads = weights.shape[1]
    constants: dict[str, NDArray[Any]] = {
        "head_axis1": np.array([1], dtype=np.int64),
        "head_axis2": np.array([2], dtype=np.int64),
        "head_split": np.array([n_heads, 1], dtype=np.int64),
        "head_eps": np.array([1e-24], dtype=np.float32),
        "head_bias": bias.astype(np.float32),
    }
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    terms, offset = [], 0
    sizes = [len(step.vocabulary_) for _, step in featurizer.transformer_list]
    for i, (mul, size) in enumerate(zip(idf_muls, sizes, strict=True)):
        tf_name, idf_name = mul.input
        idf = numpy_helper.to_array(inits[idf_name]).astype(np.float64)
        block = weights[offset : offset + size].astype(np.float64) * idf[:, None]
        offset += size
        matrix = np.ascontiguousarray(np.vstack([block.T, idf[None, :] ** 2]), dtype=np.float32)
        graph.initializer.append(numpy_helper.from_array(matrix, f"head_m{i}"))
        graph.node.extend(
            [
                helper.make_node("Unsqueeze", [tf_name, "head_axis1"], [f"head_t{i}"]),
                helper.make_node("Mul", [f"head_t{i}", f"head_m{i}"], [f"head_prod{i}"]),
                helper.make_node(
                    "ReduceSum", [f"head_prod{i}", "head_axis2"], [f"head_dots{i}"], keepdims=0
                ),
                helper.make_node(
                    "Split",
                    [f"head_dots{i}", "head_split"],
                    [f"head_dot{i}", f"head_sq{i}"],
                    axis=1,
                ),
                helper.make_node("Max", [f"head_sq{i}", "head_eps"], [f"head_safe{i}"]),
                helper.make_node("Sqrt", [f"head_safe{i}"], [f"head_norm{i}"]),
                helper.make_node("Div", [f"head_dot{i}", f"head_norm{i}"], [f"head_term{i}"]),
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
    used = {name for node in graph.node for name in node.input}
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)
