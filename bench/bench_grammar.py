"""Latency of grammar-constrained output on the shipped SmolLM2-135M GGUF, in process.

Four modes with one prompt family and the same token cap, interleaved round-robin (so machine
noise hits all alike): free text, `json_object`, a strict `json_schema`, and a required tool call.
Reported per mode: median latency, median generated tokens and median ms per generated token
(latency / tokens, prompt processing included), and how many answers parsed and validated.

Run: `.venv/bin/python -m bench.bench_grammar [--runs 5] [--max-tokens 32] [--no-write]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402

from bench.report import Report, command_line, fmt  # noqa: E402
from kernel.types import ChatRequest, ChatResponse  # noqa: E402
from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig  # noqa: E402
from local_backends.registry import default_gguf_path  # noqa: E402

VERDICT = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "reason": {"type": "string", "maxLength": 60},
    },
    "required": ["answer", "reason"],
    "additionalProperties": False,
}
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 24}},
    "required": ["city"],
    "additionalProperties": False,
}
MODES: dict[str, dict[str, Any]] = {
    "free text": {},
    "json_object": {"response_format": {"type": "json_object"}},
    "json_schema (strict)": {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT},
        }
    },
    "tool call (required)": {
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city.",
                    "parameters": CITY,
                },
            }
        ],
        "tool_choice": "required",
    },
}
PROMPTS = ["Is Rome in Italy?", "Is the sun cold?", "What is the weather in Oslo?"]


def valid(mode: str, response: ChatResponse) -> bool:
    choice = response.choices[0]
    if mode == "free text":
        return bool(choice.message.content)
    if mode.startswith("tool"):
        [call] = choice.message.tool_calls or [{}]
        jsonschema.validate(json.loads(call["function"]["arguments"]), CITY)
        return True
    value = json.loads(choice.message.content or "")
    if mode.startswith("json_schema"):
        jsonschema.validate(value, VERDICT)
    return isinstance(value, dict)


Sample = tuple[float, int, bool, bool]  # ms, generated tokens, valid, cut at max_tokens


async def run(runs: int, max_tokens: int) -> dict[str, list[Sample]]:
    backend = LlamaCppBackend(LlamaCppConfig(model_path=str(default_gguf_path()), n_ctx=1024))
    await backend.start()
    results: dict[str, list[Sample]] = {mode: [] for mode in MODES}
    for i in range(runs + 1):  # round 0 warms caches and is not counted
        for mode, params in MODES.items():
            text = PROMPTS[i % len(PROMPTS)]
            req = ChatRequest(
                model="local",
                messages=[{"role": "user", "content": text}],
                max_tokens=max_tokens,
                seed=i,
                **params,
            )
            started = time.perf_counter()
            response = await backend.complete(req, model="smollm2")
            elapsed = (time.perf_counter() - started) * 1000
            cut = response.choices[0].finish_reason == "length"
            try:
                ok = valid(mode, response)
            except (ValueError, jsonschema.ValidationError):  # counted, not fatal
                ok = False
            if i:
                results[mode].append((elapsed, response.usage.completion_tokens, ok, cut))
    await backend.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    report = Report(
        "Grammar-constrained JSON on SmolLM2-135M (local tier)",
        command=command_line("bench.bench_grammar"),
    )
    results = asyncio.run(run(args.runs, args.max_tokens))
    base = statistics.median(ms / max(n, 1) for ms, n, _, _ in results["free text"])
    rows = []
    for mode, samples in results.items():
        per_token = statistics.median(ms / max(n, 1) for ms, n, _, _ in samples)
        rows.append(
            [
                mode,
                len(samples),
                fmt(statistics.median(ms for ms, _, _, _ in samples), 0),
                fmt(statistics.median(n for _, n, _, _ in samples), 0),
                fmt(per_token, 1),
                f"{per_token / base:.2f}×",
                f"{sum(ok for _, _, ok, _ in samples)}/{len(samples)}",
                sum(cut for _, _, _, cut in samples),
            ]
        )
    report.table(
        ["mode", "runs", "p50 ms", "p50 tokens", "ms/token", "vs free text", "valid", "cut"],
        rows,
        caption=f"in-process llama.cpp, 2 threads, n_ctx 1024, max_tokens {args.max_tokens}",
    )
    report.text(
        "`ms/token` is the whole request (prompt processing included) over generated tokens; "
        "the tool-call prompt is longer (the tool list is added to the system message). "
        "`valid`: the answer parsed and validated against its schema with jsonschema; `cut`: "
        "answers that hit max_tokens (free text always may; a cut JSON answer is returned as "
        "text with finish_reason `length`, as OpenAI does, and does not parse)."
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
