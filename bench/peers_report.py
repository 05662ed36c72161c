"""The tables of bench/bench_peers.py beyond the raw one: ratios, streaming, memory, targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.report import Report, fmt, ratio

if TYPE_CHECKING:
    from bench.bench_peers import Measured

FULL, PASS = "ours, full path", "ours, pass-through"
FLOOR = "Python floor"


def _find(measured: list[Measured], prefix: str) -> Measured | None:
    """The first target whose label is `prefix` exactly, else the first starting with it."""
    exact = next((m for m in measured if m.label == prefix), None)
    return exact or next((m for m in measured if m.label.startswith(prefix)), None)


_BEFORE = (
    "*ours at VERSION*: the full path served from another checkout (`--before`), same policy "
    "and settings, its ledger at synchronous=FULL unless `--no-before-ledger-full` (FULL was "
    "the default before issue 17). "
)


def describe(measured: list[Measured], seconds: float, classifier: str, elapsed_s: float) -> str:
    ours = [m for m in measured if m.label.startswith("ours")]
    return (
        "One mock upstream (`bench.mock_server`, answers at once), one run, every target "
        "measured level after level in turn. Request: one ~40-token user message carrying a "
        "per-request number (no cache can serve it), `max_tokens` 64. wrk "
        f"`-t2 -c<level> -d{seconds:g}s --latency` (`-t1` at c=1) with `bench/wrk_post.lua`, "
        "after a warm-up of 2 s rounds until two agree. *added* = the percentile through the "
        "target − the same percentile direct to the mock at that level. *CPU ms/req* = "
        "user+system CPU of the target's whole process tree (/proc) during the wrk run ÷ "
        "requests. LiteLLM proxy: 2 workers, production settings as in "
        "bench/bench_overhead.py. TensorZero: `tensorzero._start_http_gateway(config_file=…)` "
        "(its Rust gateway, tokio on both cores), observability off, one `openai` provider at the "
        "mock. Portkey: Node, `x-portkey-provider: openai` + `x-portkey-custom-host` (not "
        "streamed). Ours: `hybridgw serve --workers 2`, cloud tier `openai_compat` at the mock, "
        "SQLite ledger (synchronous=NORMAL, the default; each row in the ledger journal before "
        "the answer, committed right after: kill -9 safe), in-memory limits; "
        f"*full path*: bench/policies/cloud_hop.yaml (default.yaml's PII entities with the name "
        f"model, protect rules), classifier `{classifier}`; *pass-through*: the same policy with "
        "`pii.entities: {}` and no PII rule, `HYBRIDGW_CLASSIFIER=fake` (fixed scores 0); "
        "*(ledger FULL)*: the full path with `HYBRIDGW_LEDGER_SQLITE_SYNCHRONOUS=FULL` "
        "(an fsync per journal append and per commit: survives a power loss too). "
        "*Python floor*: `bench/floor_proxy.py`, "
        "2 uvicorn workers with our server flags, an ASGI app that only forwards the body to the "
        "mock through one aiohttp session (no parsing, auth, scan, classifier or ledger): the "
        "ceiling of any gateway on our server stack. "
        + (_BEFORE if any(m.label.startswith("ours at ") for m in ours) else "")
        + "; ".join(f"{m.label}: {m.route}" for m in ours)
        + f". Wall time of the run: {elapsed_s:.0f} s. All processes, wrk included, share the "
        "machine's cores."
    )


def ratio_table(report: Report, measured: list[Measured], levels: list[int]) -> None:
    direct = measured[0]
    peers = [m for m in measured[1:] if not m.label.startswith("ours")]
    rows = []
    for ours in (m for m in measured if m.label in (FULL, PASS)):
        for peer in peers:
            for c in levels:
                base = direct.wrk[c]
                rows.append(
                    [
                        ours.label,
                        peer.label,
                        f"c={c}",
                        ratio(ours.wrk[c].rps, peer.wrk[c].rps),
                        ratio(ours.wrk[c].p50_ms - base.p50_ms, peer.wrk[c].p50_ms - base.p50_ms),
                        ratio(ours.cpu_ms[c], peer.cpu_ms[c]),
                    ]
                )
    report.table(
        ["ours", "peer", "level", "req/s ours/peer", "added p50 ours/peer", "CPU/req ours/peer"],
        rows,
        caption="Ratios ours / each peer (req/s: higher is better; the others: lower is better)",
    )


def ttfb_table(report: Report, measured: list[Measured]) -> None:
    direct = measured[0]
    rows = []
    for c in (1, 8):
        for m in (m for m in measured if c in m.ttfb):
            t = m.ttfb[c]
            rows.append(
                [
                    f"c={c}",
                    m.label,
                    str(t.requests),
                    fmt(t.p50_ms, 2),
                    fmt(t.p99_ms, 2),
                    "–" if m is direct else fmt(t.p50_ms - direct.ttfb[c].p50_ms, 2),
                    str(t.errors),
                ]
            )
    report.table(
        ["level", "target", "streams", "TTFB p50 ms", "TTFB p99 ms", "added p50 ms", "errors"],
        rows,
        caption="Streaming: time to the first `data:` line (httpx client; Portkey not streamed)",
    )


def memory_table(report: Report, measured: list[Measured]) -> None:
    rows = []
    for m in measured:
        idle, top = m.idle, m.peak
        rows.append(
            [
                m.label,
                str(top.processes if top else "–"),
                fmt(idle.rss_mib if idle else None, 0),
                fmt(top.rss_mib if top else None, 0),
                fmt(top.pss_mib if top else None, 0),
            ]
        )
    report.table(
        ["target", "processes", "RSS idle MiB", "RSS peak MiB", "PSS peak MiB"],
        rows,
        caption="Memory of each process tree (RSS counts pages shared by forked workers in each "
        "process; PSS splits them)",
    )


def targets(report: Report, measured: list[Measured], levels: list[int]) -> None:
    """Issue 17's targets, each with what this run measured (never asserted)."""
    full, passing = _find(measured, FULL), _find(measured, PASS)
    litellm, tz = _find(measured, "LiteLLM"), _find(measured, "TensorZero")
    direct = measured[0]
    rows: list[list[str]] = []

    def check(name: str, value: float | None, goal: float, *, at_most: bool = False) -> None:
        if value is None:
            rows.append([name, "–", "not measured"])
            return
        met = value <= goal if at_most else value >= goal
        rows.append([name, f"{value:.2f}", "met" if met else "NOT met"])

    for c in (1, 8, 64):
        if full and litellm and c in levels:
            check(
                f"full path req/s ≥ 10× LiteLLM at c={c}", full.wrk[c].rps / litellm.wrk[c].rps, 10
            )
    for c in (8, 64):
        if full and tz and c in levels:
            check(
                f"full path req/s ≥ 0.33× TensorZero at c={c}",
                full.wrk[c].rps / tz.wrk[c].rps,
                0.33,
            )
    if passing and tz and 8 in levels:
        check(
            "pass-through req/s ≥ 0.6× TensorZero at c=8", passing.wrk[8].rps / tz.wrk[8].rps, 0.6
        )
    if full and 1 in levels:
        check(
            "full path added p50 at c=1 ≤ 1.0 ms",
            full.wrk[1].p50_ms - direct.wrk[1].p50_ms,
            1.0,
            at_most=True,
        )
    for m in (full, passing):
        if m and m.peak:
            check(f"{m.label}: RSS peak ≤ 200 MiB (2 workers)", m.peak.rss_mib, 200, at_most=True)
    report.table(["target (issue 17)", "measured", "verdict"], rows, caption="Targets")
    floor_context(report, measured, levels)


def floor_context(report: Report, measured: list[Measured], levels: list[int]) -> None:
    """How far the Python floor itself is from the peers: what no work in our code can pass."""
    floor, litellm, tz = (
        _find(measured, FLOOR),
        _find(measured, "LiteLLM"),
        _find(measured, "TensorZero"),
    )
    if floor is None:
        return
    rows = [
        [f"c={c}", fmt(floor.wrk[c].rps)]
        + [ratio(floor.wrk[c].rps, p.wrk[c].rps) if p else "–" for p in (litellm, tz)]
        for c in levels
    ]
    report.table(
        ["level", "Python floor req/s", "floor / LiteLLM", "floor / TensorZero"],
        rows,
        caption="The Python floor against the peers (the best any gateway on our stack could do)",
    )
