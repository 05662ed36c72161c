"""Gateway overhead vs LiteLLM proxy, side by side against the same mock upstream.

    .venv/bin/python -m bench.bench_overhead

Starts on 127.0.0.1: the mock upstream (`bench.mock_server`, its own process), LiteLLM proxy
(`litellm[proxy]` in ~/.cache/hybridgw-bench/litellm, 2 workers, production settings, no database)
and our gateway twice (`hybridgw serve --workers 2`, production settings, classifier and PII
scan on), once with the cloud tier on `backend: litellm` and once on `backend: openai_compat`
(plus, by default, `openai_compat` with the PII name model off, to isolate that model's cost).
Then, level by level and target after target (so machine noise hits all alike), `wrk -t2
-c{1,8,64} -d10s --latency` POSTs the same chat completion to each and to the mock directly.
Also measured: streaming time to first `data:` line (httpx client, c=1 and c=8), the CPU time
each server's process tree used per request, and each tree's memory (RSS and PSS).

Added latency = p50 through the server − p50 direct to the mock at the same concurrency.
Ratios are ours / LiteLLM. Bounded: about 5 minutes; `--seconds` and `--levels` shorten it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import TtfbResult, WrkResult, ensure_wrk, run_wrk, streaming_ttfb
from bench.procs import Memory, Processes, tree_cpu_seconds, tree_memory, wait_idle
from bench.report import Report, command_line, fmt, ratio
from bench.servers import (
    Server,
    classifier_setting,
    start_gateway,
    start_litellm,
    start_mock,
)

# About 40 tokens. "@N@" becomes a number unique to each request (no cache can serve it); the
# product names mid-sentence make the PII scan run its name model on the sentence, as it would
# on most real prompts.
PROMPT = (
    "Ticket @N@: summarise the main trade-offs between optimistic and pessimistic locking in "
    "PostgreSQL and Oracle, in three short bullet points a junior engineer can follow."
)


@dataclass
class Measured:
    server: Server
    wrk: dict[int, WrkResult] = field(default_factory=dict)
    cpu_ms_per_request: dict[int, float] = field(default_factory=dict)
    ttfb: dict[int, TtfbResult] = field(default_factory=dict)
    memory_idle: Memory | None = None
    memory_peak: Memory | None = None
    route: str = ""


def body(server: Server) -> dict[str, Any]:
    return {
        "model": server.model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 64,
        "temperature": 0.2,
    }


def probe(server: Server) -> str:
    """One request: check it succeeds and, for our gateway, which tier and rule served it."""
    request = urllib.request.Request(
        server.url,
        data=json.dumps(body(server)).encode(),
        headers={"authorization": f"Bearer {server.key}", "content-type": "application/json"},
    )
    request.data = request.data.replace(b"@N@", b"probe")  # type: ignore[union-attr]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        tier = response.headers.get("x-route-tier")
        rule = response.headers.get("x-route-rule")
        json.loads(response.read())
    return f"{tier} (rule {rule})" if tier else ""


def warm_up(server: Server, *, max_rounds: int = 8) -> None:
    """Wait for start-up work to finish (background model loads), then drive load in 2 s rounds
    until two rounds agree within 20 % (lazy imports and first-use loads are behind us)."""
    wait_idle(server.proc.pid, timeout_s=60)
    last = 0.0
    for round_ in range(max_rounds):
        rps = run_wrk(server.url, body(server), key=server.key, connections=8, seconds=2).rps
        if round_ >= 2 and abs(rps - last) <= 0.2 * max(rps, last):
            return
        last = rps


def peak(a: Memory | None, b: Memory) -> Memory:
    return b if a is None or b.rss_mib > a.rss_mib else a


def measure_level(m: Measured, connections: int, seconds: float) -> None:
    cpu_before = tree_cpu_seconds(m.server.proc.pid)
    result = run_wrk(
        m.server.url, body(m.server), key=m.server.key, connections=connections, seconds=seconds
    )
    cpu = tree_cpu_seconds(m.server.proc.pid) - cpu_before
    m.wrk[connections] = result
    m.cpu_ms_per_request[connections] = cpu * 1000 / max(1, result.requests)
    m.memory_peak = peak(m.memory_peak, tree_memory(m.server.proc.pid))
    print(
        f"  c={connections:<3} {m.server.label:<32} {result.rps:9.1f} req/s  "
        f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  errors {result.errors}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk duration per level")
    parser.add_argument("--levels", default="1,8,64", help="wrk connection counts")
    parser.add_argument("--ttfb-requests", type=int, default=100, help="streams per level")
    parser.add_argument("--skip-litellm", action="store_true", help="Only our gateway + mock.")
    parser.add_argument(
        "--no-name-model-row",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Also measure openai_compat with the PII name model off (its cost, isolated).",
    )
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    ensure_wrk()
    command = command_line("bench.bench_overhead")
    report = Report("Gateway overhead vs LiteLLM proxy", command=command)
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp, Processes(Path(tmp)) as ps:
        directory = Path(tmp)
        mock = start_mock(ps)
        servers = [mock]
        if not args.skip_litellm:
            servers.append(start_litellm(ps, directory, mock=mock))
        for backend in ("litellm", "openai_compat"):
            servers.append(start_gateway(ps, directory, backend=backend, mock=mock))
        if args.no_name_model_row:
            servers.append(
                start_gateway(ps, directory, backend="openai_compat", mock=mock, scan_model=False)
            )
        measured = [Measured(s) for s in servers]
        for m in measured:
            m.route = probe(m.server)
            warm_up(m.server)
            time.sleep(1)
            m.memory_idle = tree_memory(m.server.proc.pid)
        for connections in levels:
            print(f"wrk -c{connections} -d{args.seconds:g}s", flush=True)
            for m in measured:
                measure_level(m, connections, args.seconds)
        for concurrency in (1, 8):
            for m in measured:
                m.ttfb[concurrency] = streaming_ttfb(
                    m.server.url,
                    body(m.server),
                    key=m.server.key,
                    concurrency=concurrency,
                    requests=args.ttfb_requests,
                )
                m.memory_peak = peak(m.memory_peak, tree_memory(m.server.proc.pid))
        build_report(report, measured, levels, args)
    report.emit(write=not args.no_write)


def build_report(
    report: Report, measured: list[Measured], levels: list[int], args: argparse.Namespace
) -> None:
    direct = measured[0]
    theirs = next((m for m in measured if m.server.label.startswith("LiteLLM")), None)
    ours = [m for m in measured if m.server.label.startswith("ours")]
    classifier = classifier_setting()
    report.text(
        "Same mock upstream, same request (one ~40-token user message with a per-request "
        "number, so no cache serves it; `max_tokens` 64), same run, after a 6 s warm-up each. "
        f"wrk `-t2 -c<level> -d{args.seconds:g}s --latency` (`-t1` at c=1) with "
        "`bench/wrk_post.lua`. *added p50* = p50 − the direct-to-mock p50 at the same level. "
        "*CPU/req* = user+system CPU time of the server's whole process tree during the wrk "
        "run ÷ requests served (less noisy than latency on a shared machine). Our gateway: "
        f"`hybridgw serve --workers 2`, classifier `{classifier}`"
        + (
            ""
            if classifier == "onnx"
            else " (**fake**: router/classifier.py or its model was missing)"
        )
        + ", PII entities of default.yaml with the default name model (our token tagger; "
        "the *no name model* row: "
        "`pii.scan_model: false`, patterns and validators only), SQLite ledger (WAL, "
        "synchronous=NORMAL, the default), in-memory limits; every request routed to the cloud "
        "tier → "
        + "; ".join(f"{m.server.label}: {m.route}" for m in ours)
        + ". LiteLLM proxy: 2 workers, `set_verbose: false`, `json_logs`, `LITELLM_LOG=ERROR`, "
        "`LITELLM_MODE=PRODUCTION`, master key, no database (so no spend logs), no callbacks."
    )
    rows = []
    for c in levels:
        base = direct.wrk[c].p50_ms
        for m in measured:
            w = m.wrk[c]
            rows.append(
                [
                    f"c={c}",
                    m.server.label,
                    fmt(w.rps),
                    fmt(w.p50_ms, 2),
                    fmt(w.p90_ms, 2),
                    fmt(w.p99_ms, 2),
                    "–" if m is direct else fmt(w.p50_ms - base, 2),
                    fmt(m.cpu_ms_per_request[c], 2),
                    str(w.errors),
                ]
            )
    report.table(
        [
            "level",
            "target",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "added p50 ms",
            "CPU ms/req",
            "errors",
        ],
        rows,
        caption="Throughput and latency (non-streaming)",
    )
    if theirs is not None:
        ratio_rows = []
        for c in levels:
            base = direct.wrk[c].p50_ms
            for m in ours:
                ratio_rows.append(
                    [
                        f"c={c}",
                        m.server.label,
                        ratio(m.wrk[c].rps, theirs.wrk[c].rps),
                        ratio(m.wrk[c].p50_ms - base, theirs.wrk[c].p50_ms - base),
                        ratio(m.cpu_ms_per_request[c], theirs.cpu_ms_per_request[c]),
                    ]
                )
        report.table(
            ["level", "ours", "req/s ours/LiteLLM", "added p50 ours/LiteLLM", "CPU/req ratio"],
            ratio_rows,
            caption="Ratios ours / LiteLLM proxy (goal: req/s ≥ 10×, added latency ≤ 0.1×)",
        )
    ttfb_rows = []
    for c in (1, 8):
        base = direct.ttfb[c].p50_ms
        for m in measured:
            t = m.ttfb[c]
            ttfb_rows.append(
                [
                    f"c={c}",
                    m.server.label,
                    str(t.requests),
                    fmt(t.p50_ms, 2),
                    fmt(t.p90_ms, 2),
                    "–" if m is direct else fmt(t.p50_ms - base, 2),
                    "–"
                    if theirs is None or m is direct
                    else ratio(t.p50_ms - base, theirs.ttfb[c].p50_ms - base),
                    str(t.errors),
                ]
            )
    report.table(
        [
            "level",
            "target",
            "streams",
            "TTFB p50 ms",
            "TTFB p90 ms",
            "added p50 ms",
            "added ours/LiteLLM",
            "errors",
        ],
        ttfb_rows,
        caption="Streaming: time to the first `data:` line (httpx client)",
    )
    mem_rows = []
    for m in measured:
        idle, top = m.memory_idle, m.memory_peak
        mem_rows.append(
            [
                m.server.label,
                str(top.processes if top else "–"),
                fmt(idle.rss_mib if idle else None, 0),
                fmt(top.rss_mib if top else None, 0),
                fmt(top.pss_mib if top else None, 0),
                "–"
                if theirs is None or m is direct or m is theirs or not top or not theirs.memory_peak
                else ratio(top.rss_mib, theirs.memory_peak.rss_mib),
            ]
        )
    report.table(
        [
            "target",
            "processes",
            "RSS idle MiB",
            "RSS peak MiB",
            "PSS peak MiB",
            "RSS ours/LiteLLM",
        ],
        mem_rows,
        caption="Memory of each process tree (RSS double-counts pages forked workers share; "
        "PSS splits them)",
    )
    top_rps = max(m.wrk[c].rps for m in measured[1:] for c in levels) if len(measured) > 1 else 0
    report.text(
        f"The mock itself served {max(direct.wrk[c].rps for c in levels):,.0f} req/s (direct, "
        f"best level) vs at most {top_rps:,.0f} req/s through any server, so the mock is not "
        "what limits the servers. All processes, wrk included, share the 2 cores."
    )


if __name__ == "__main__":
    main()
