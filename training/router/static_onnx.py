"""Export static-embedding heads as an ONNX graph over token ids (no text ops, no torch).

Graph: `ids` int64 [N, T] and `mask` float [N, T] (1 for real tokens, 0 for padding) →
Gather(float16 table) → Cast → masked mean over T → L2 normalise → (Concat with `features`
[N, K], the surface features of `router.prompt_features`, when the model was trained on them)
→ MatMul heads + bias → Sigmoid → `probabilities` [N, H]. The tokenizer (WordPiece,
`tokenizer.json`) and the feature regexes run in the caller.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

OPSET = 17


def export_static(
    table: NDArray[np.float32],
    weights: NDArray[np.float32],
    bias: NDArray[np.float32],
    heads: list[str],
    metadata: dict[str, str],
    features: tuple[str, ...] = (),
) -> Any:
    """The ONNX model (onnx.ModelProto) of mean-pooled static embeddings (+ the named surface
    features, last in `weights`' rows) + sigmoid heads."""
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(table.astype(np.float16), "table"),
        numpy_helper.from_array(weights.astype(np.float32), "head_w"),
        numpy_helper.from_array(bias.astype(np.float32), "head_b"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"),
        numpy_helper.from_array(np.array([1e-12], dtype=np.float32), "eps"),
    ]
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows16"], axis=0),
        helper.make_node("Cast", ["rows16"], ["rows"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
        helper.make_node("Mul", ["rows", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("Mul", ["summed", "summed"], ["squares"]),
        helper.make_node("ReduceSum", ["squares", "axis_last"], ["sq"], keepdims=1),
        helper.make_node("Max", ["sq", "eps"], ["sq_safe"]),
        helper.make_node("Sqrt", ["sq_safe"], ["norm"]),
        helper.make_node("Div", ["summed", "norm"], ["embedding"]),
    ]
    inputs = [
        helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None]),
        helper.make_tensor_value_info("mask", TensorProto.FLOAT, [None, None]),
    ]
    head_input = "embedding"
    if features:
        inputs.append(helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, None]))
        nodes.append(helper.make_node("Concat", ["embedding", "features"], ["joined"], axis=1))
        head_input = "joined"
    nodes += [
        helper.make_node("MatMul", [head_input, "head_w"], ["dots"]),
        helper.make_node("Add", ["dots", "head_b"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        nodes,
        "hybridgw_router_static",
        inputs,
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(heads)])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    model.doc_string = "Prompt classifier of hybrid-gateway over static token embeddings."
    props = {"heads": json.dumps(heads), "input": "token_ids", **metadata}
    if features:
        props["features"] = json.dumps(list(features))
    helper.set_model_props(model, props)
    return model


def add_static_branch(
    model: Any, table: NDArray[np.float32], weights: NDArray[np.float32], dense_weight: float
) -> Any:
    """Add the static-embedding logits to a TF-IDF graph's `head_logits` Sum (Concat model).

    New inputs `ids` and `mask`; the branch computes dense_weight * normalised mean embedding
    · weights and feeds it into the existing Sum, so both blocks form one linear model.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    graph.input.extend(
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, [None, None]),
        ]
    )
    graph.initializer.extend(
        [
            numpy_helper.from_array(table.astype(np.float16), "table"),
            numpy_helper.from_array((weights * dense_weight).astype(np.float32), "static_w"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "static_axis1"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "static_axis_last"),
            numpy_helper.from_array(np.array([1e-12], dtype=np.float32), "static_eps"),
        ]
    )
    (total,) = [n for n in graph.node if n.output and n.output[0] == "head_logits"]
    position = list(graph.node).index(total)
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["static_rows16"], axis=0),
        helper.make_node("Cast", ["static_rows16"], ["static_rows"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "static_axis_last"], ["static_mask3"]),
        helper.make_node("Mul", ["static_rows", "static_mask3"], ["static_masked"]),
        helper.make_node(
            "ReduceSum", ["static_masked", "static_axis1"], ["static_sum"], keepdims=0
        ),
        helper.make_node("Mul", ["static_sum", "static_sum"], ["static_squares"]),
        helper.make_node(
            "ReduceSum", ["static_squares", "static_axis_last"], ["static_sq"], keepdims=1
        ),
        helper.make_node("Max", ["static_sq", "static_eps"], ["static_sq_safe"]),
        helper.make_node("Sqrt", ["static_sq_safe"], ["static_norm"]),
        helper.make_node("Div", ["static_sum", "static_norm"], ["static_embedding"]),
        helper.make_node("MatMul", ["static_embedding", "static_w"], ["static_logits"]),
    ]
    for offset, node in enumerate(nodes):
        graph.node.insert(position + offset, node)
    total.input.append("static_logits")
    return model
