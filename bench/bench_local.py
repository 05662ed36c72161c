"""Local tier vs raw llama.cpp: the same GGUF and threads, through our gateway and directly.

    .venv/bin/python -m bench.bench_local

Raw: `llama_cpp.Llama` in this process (the default GGUF, SmolLM2-135M-Instruct Q4_1, `n_threads`
2, OpenMP-free build), `create_chat_completion(stream=True)`. Ours: `hybridgw serve --workers 1`
in a subprocess with `bench/policies/local_only.yaml` (everything to the in-process llamacpp
backend, classifier `fake`), driven over HTTP by an httpx streaming client. Same prompts, same
sampling (temperature 0.2, top_p 0.9, repeat penalty 1.1, seed 42, `max_tokens` 64).

One `Llama` instance is not thread-safe, so concurrency on the raw side is 1/2/4 client threads
sharing one instance behind a lock — a sequential queue, which is also what our backend does
(one worker thread, bounded queue). Levels alternate raw → ours so machine noise hits both.
Measured per level: time to first token as the client sees it (queue wait included), decode
tokens/s per request (tokens after the first ÷ time after the first), and overall throughput.

On a machine other jobs keep busy, pass `--threads 1`: llama.cpp's two threads meet at a barrier
per step, and when the scheduler parks one the other waits (measured here at load average 9 on
2 cores: one level of 8 requests did not finish in 8 minutes with 2 threads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import Processes, clean_env, free_port, tree_memory, wait_http
from bench.report import Report, command_line, fmt, ratio
from bench.servers import GATEWAY_KEY, ROOT, serve_argv

POLICY = Path(__file__).with_name("policies") / "local_only.yaml"
PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for writing a clear e-mail.",
    "Explain what a hash table is in two sentences.",
    "Name three fruits that are rich in vitamin C.",
    "What does HTTP stand for?",
    "Suggest a name for a small bakery.",
    "Why is the sky blue? Answer briefly.",
    "Translate 'good morning' into Spanish and German.",
]
SAMPLING = {"temperature": 0.2, "top_p": 0.9, "seed": 42, "max_tokens": 64}


@dataclass(frozen=True, slots=True)
class Run:
    ttft_s: float
    total_s: float
    tokens: int

    @property
    def decode_tps(self) -> float | None:
        decode = self.total_s - self.ttft_s
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else None


@dataclass(frozen=True, slots=True)
class Level:
    clients: int
    runs: list[Run]
    wall_s: float

    def ttft_p50_ms(self) -> float:
        return statistics.median(r.ttft_s for r in self.runs) * 1000

    def decode_p50(self) -> float:
        values = [r.decode_tps for r in self.runs if r.decode_tps]
        return statistics.median(values) if values else float("nan")

    def tokens_per_s(self) -> float:
        return sum(r.tokens for r in self.runs) / self.wall_s

    def requests_per_s(self) -> float:
        return len(self.runs) / self.wall_s

    def mean_tokens(self) -> float:
        return statistics.fmean(r.tokens for r in self.runs)


class Raw:
    """One `Llama`, shared by client threads behind a lock (as the backend's single worker)."""

    def __init__(self, path: Path, threads: int, n_ctx: int) -> None:
        from llama_cpp import Llama

        self.llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.lock = threading.Lock()

    def one(self, prompt: str) -> Run:
        started = time.perf_counter()
        first: float | None = None
        tokens = 0
        with self.lock:
            stream = self.llm.create_chat_completion(
                messages=[{"role": "user", "content": prompt}],
                stream=True,
                repeat_penalty=1.1,
                **SAMPLING,
            )
            for chunk in stream:
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - started
        total = time.perf_counter() - started
        return Run(first if first is not None else total, total, tokens)

    def level(self, clients: int, prompts: list[str]) -> Level:
        todo = list(prompts)
        runs: list[Run] = []
        guard = threading.Lock()

        def client() -> None:
            while True:
                with guard:
                    if not todo:
                        return
                    prompt = todo.pop(0)
                run = self.one(prompt)
                with guard:
                    runs.append(run)

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return Level(clients, runs, time.perf_counter() - started)


async def _gateway_level(url: str, clients: int, prompts: list[str]) -> Level:
    import httpx

    todo = list(prompts)
    runs: list[Run] = []
    headers = {"authorization": f"Bearer {GATEWAY_KEY}"}

    async with httpx.AsyncClient(timeout=300, trust_env=False) as http:

        async def one(prompt: str) -> Run:
            body: dict[str, Any] = {
                "model": "auto",
                "messages": [{"role": "user", "content": prompt}],
                "stream": True,
                **SAMPLING,
            }
            started = time.perf_counter()
            first: float | None = None
            tokens = 0
            async with http.stream("POST", url, json=body, headers=headers) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.startswith("data:") or line.strip() == "data: [DONE]":
                        continue
                    chunk = json.loads(line[5:])
                    choices = chunk.get("choices") or []
                    if choices and (choices[0].get("delta") or {}).get("content"):
                        tokens += 1
                        if first is None:
                            first = time.perf_counter() - started
            total = time.perf_counter() - started
            return Run(first if first is not None else total, total, tokens)

        async def client() -> None:
            while todo:
                runs.append(await one(todo.pop(0)))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return Level(clients, runs, time.perf_counter() - started)


def gateway_level(url: str, clients: int, prompts: list[str]) -> Level:
    return asyncio.run(_gateway_level(url, clients, prompts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=8, help="requests per level")
    parser.add_argument("--levels", default="1,2,4", help="concurrent clients")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (both sides)")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    from local_backends.registry import default_gguf_path

    gguf = default_gguf_path()
    levels = [int(x) for x in args.levels.split(",")]
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(args.requests)]
    raw = Raw(gguf, args.threads, 4096)
    raw.level(1, PROMPTS[:2])  # warm-up
    results: dict[str, dict[int, Level]] = {"raw": {}, "ours": {}}
    with tempfile.TemporaryDirectory(prefix="bench-local-") as tmp, Processes(Path(tmp)) as ps:
        port = free_port()
        env = clean_env(
            {
                "HYBRIDGW_CLASSIFIER": "fake",
                "HYBRIDGW_DATABASE_URL": str(Path(tmp) / "ledger.db"),
                "HYBRIDGW_LOCAL_THREADS": str(args.threads),
                "HYBRIDGW_LOCAL_MODEL_PATH": str(gguf),
            }
        )
        proc = ps.start("gateway-local", serve_argv(port, 1, POLICY), env=env, cwd=ROOT)
        wait_http(f"http://127.0.0.1:{port}/readyz", proc, timeout_s=180)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        gateway_level(url, 1, PROMPTS[:2])  # warm-up
        for clients in levels:
            results["raw"][clients] = raw.level(clients, prompts)
            results["ours"][clients] = gateway_level(url, clients, prompts)
            print(
                f"clients={clients}: raw {results['raw'][clients].tokens_per_s():.1f} tok/s, "
                f"ours {results['ours'][clients].tokens_per_s():.1f} tok/s",
                flush=True,
            )
        gateway_memory = tree_memory(proc.pid)
    rows = []
    ratio_rows = []
    for clients in levels:
        r, o = results["raw"][clients], results["ours"][clients]
        for name, lv in (("raw llama_cpp.Llama", r), ("ours over HTTP", o)):
            rows.append(
                [
                    str(clients),
                    name,
                    str(len(lv.runs)),
                    fmt(lv.mean_tokens(), 1),
                    fmt(lv.ttft_p50_ms(), 0),
                    fmt(lv.decode_p50(), 1),
                    fmt(lv.tokens_per_s(), 1),
                    fmt(lv.requests_per_s(), 2),
                ]
            )
        ratio_rows.append(
            [
                str(clients),
                ratio(o.ttft_p50_ms(), r.ttft_p50_ms()),
                ratio(o.decode_p50(), r.decode_p50()),
                ratio(o.tokens_per_s(), r.tokens_per_s()),
            ]
        )
    report = Report("Local tier vs raw llama.cpp", command=command_line("bench.bench_local"))
    report.text(
        f"GGUF `{gguf.name}`, `n_threads` {args.threads} on both sides, {args.requests} "
        "requests per level (the same prompts), temperature 0.2 / top_p 0.9 / repeat penalty "
        "1.1 / seed 42 / `max_tokens` 64. Raw = one `llama_cpp.Llama` in the benchmark process, "
        "clients sharing it through a lock (a sequential queue); ours = `hybridgw serve "
        "--workers 1` (llamacpp backend: one worker thread, bounded queue), streaming over "
        "HTTP. TTFT is as the client sees it, queue wait included, so it grows with clients on "
        "both sides. Gateway process tree after the run: "
        f"{gateway_memory.rss_mib:.0f} MiB RSS."
    )
    report.table(
        [
            "clients",
            "path",
            "requests",
            "tokens/req",
            "TTFT p50 ms",
            "decode tok/s p50",
            "throughput tok/s",
            "req/s",
        ],
        rows,
    )
    report.table(
        ["clients", "TTFT ours/raw", "decode ours/raw", "throughput ours/raw"],
        ratio_rows,
        caption="Ratios ours / raw (goal: decode and throughput ≈ 1×, TTFT ≈ 1×)",
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
