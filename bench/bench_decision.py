"""Decision path latency, in-process: PII scan + classifier + `decide()` at ~50/500/4000 tokens.

    .venv/bin/python -m bench.bench_decision

Mirrors `Pipeline._plan` on the embedded default policy (policies/examples/default.yaml): the
fast PII scan (patterns, validators, context), the ONNX classifier on `scoring_text`, `decide()`,
then — because that policy can still send the request to the cloud — the full PII scan with the
name model (spaCy NER) and `decide()` again. Each stage is timed separately per request, and
the sum is the decision path's total. Prompts are Dolly open-QA text (shared data folder, else a
built-in paragraph) cut to ~4 characters per token, each prefixed with a unique ticket number so
the NER per-text cache never hits. Single thread, no event loop: pure CPU cost per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bench.report import Report, command_line, fmt
from bench.servers import ROOT, classifier_setting
from kernel.text import estimate_tokens, scoring_text
from kernel.types import ChatRequest, Message
from policies.loader import default_policy_path, load_policy
from router.decision import Features, decide

DOLLY = ROOT.parent / "shared" / "data" / "difficulty" / "dolly_open_qa" / "open_qa.jsonl"
FALLBACK = (
    "Maria Lopez from the Lisbon office asked whether the quarterly report for Acme Holdings can "
    "be sent to Jean Dupont before Friday. The figures for Germany and Spain are still missing, "
    "and the team in Denver needs a summary of the open invoices and the shipping delays. "
)
SIZES = (50, 500, 4000)


def corpus() -> list[str]:
    """Paragraphs of ordinary English with names in them (Dolly open QA, or the fallback)."""
    if DOLLY.exists():
        out = []
        for line in DOLLY.read_text(encoding="utf-8").splitlines()[:3000]:
            text = json.loads(line).get("text", "")
            text = text.replace("### Human:", "").replace("### Assistant:", "").strip()
            if text:
                out.append(text)
        if out:
            return out
    return [FALLBACK] * 50


def prompts(tokens: int, count: int, paragraphs: list[str]) -> list[str]:
    """`count` different prompts of about `tokens` tokens (4 characters per token)."""
    out = []
    chars = tokens * 4
    start = 0
    for i in range(count):
        parts: list[str] = []
        length = 0
        while length < chars:
            piece = paragraphs[start % len(paragraphs)]
            start += 1
            parts.append(piece)
            length += len(piece) + 1
        out.append(f"Ticket {i}: " + " ".join(parts)[: chars - 12])
    return out


def build_classifier() -> tuple[Callable[[str], Any], str]:
    if classifier_setting() == "onnx":
        from router.classifier import OnnxClassifier

        model = OnnxClassifier(intra_op_threads=1)
        return model.score, f"ONNX `{model.path.relative_to(ROOT)}` v{model.version}"
    from router.fakes import FakeClassifier

    return FakeClassifier().score, "**fake** (router/classifier.py or its model missing)"


def build_scanner(document: Any) -> tuple[Any, str]:
    from policies.pii import PiiScanner

    try:
        from gateway.privacy import protected_types

        types = protected_types(document)
    except ImportError:
        types = frozenset(document.pii.entities)
    scanner = PiiScanner(types, use_model=document.pii.scan_model)
    loaded = scanner.load()
    return scanner, f"{len(types)} entity types, name model {'loaded' if loaded else 'absent'}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(
    texts: list[str], score: Callable[[str], Any], scanner: Any, document: Any
) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = {
        k: [] for k in ("PII fast scan", "classifier", "decide", "PII model scan", "total")
    }
    clock = time.perf_counter
    for text in texts:
        req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
        t0 = clock()
        fast = scanner.scan_request(req, include_model=False)
        t1 = clock()
        scores = score(scoring_text(req))
        t2 = clock()
        features = Features(
            difficulty=float(scores.get("difficulty", 0.0)),
            sensitivity=float(scores.get("sensitivity", 0.0)),
            pii_types=fast.types,
            prompt_tokens=estimate_tokens(text),
        )
        decision = decide(features, document)
        t3 = clock()
        model_ms = 0.0
        if any(t.tier == "cloud" for t in decision.candidates()):
            full = scanner.scan_request(req, include_model=True)
            if full.types != features.pii_types:
                decide(replace(features, pii_types=full.types), document)
            model_ms = (clock() - t3) * 1000
        end = clock()
        stages["PII fast scan"].append((t1 - t0) * 1000)
        stages["classifier"].append((t2 - t1) * 1000)
        stages["decide"].append((t3 - t2) * 1000)
        stages["PII model scan"].append(model_ms)
        stages["total"].append((end - t0) * 1000)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="prompts per size (4000: ÷4)")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    document = load_policy(default_policy_path()).document
    score, classifier_name = build_classifier()
    scanner, scanner_name = build_scanner(document)
    paragraphs = corpus()
    rows = []
    for tokens in SIZES:
        runs = args.runs if tokens < 4000 else max(20, args.runs // 4)
        warm = prompts(tokens, 10, paragraphs[::-1])
        measure(warm, score, scanner, document)
        stages = measure(prompts(tokens, runs, paragraphs), score, scanner, document)
        for name, values in stages.items():
            rows.append(
                [
                    f"~{tokens}",
                    name if name != "total" else "**total**",
                    fmt(statistics.median(values), 3),
                    fmt(percentile(values, 99), 3),
                    fmt(statistics.fmean(values), 3),
                    str(runs),
                ]
            )
        print(f"~{tokens} tokens done", flush=True)
    report = Report("Decision path latency", command=command_line("bench.bench_decision"))
    report.text(
        "In-process, one thread, as `Pipeline._plan` runs it on the default policy: fast PII "
        "scan → classifier → `decide()` → (cloud still possible) full PII scan with the name "
        f"model → `decide()`. Classifier: {classifier_name}. PII: {scanner_name}. Prompts: "
        "Dolly open-QA text, a unique ticket number first (no cache hits). The classifier "
        "scores only the last 4,000 characters, so its ~4000-token row is a truncated prompt, "
        "as in the gateway. Milliseconds."
    )
    report.table(["prompt tokens", "stage", "p50 ms", "p99 ms", "mean ms", "runs"], rows)
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
