"""The outside PII conformance suite, `pii-leak-benchmark`, against a real `hybridgw serve`.

The gateway runs as a subprocess with a policy that sets every PII type to `placeholder` and
sends everything to the benchmark's capture upstream (an OpenAI-compatible server the benchmark
starts on a free 127.0.0.1 port, which inspects every byte it receives and answers by streaming
the prompt back one character per SSE event, without `id` or `model`). `selfcheck` (with its
credential specimens) and `ci` (negative control first, then the run) must both report CLEAN
with every check passing: no value reached the upstream, every value came back restored, the
stream is valid SSE and the answer can be rebuilt from its fragments.

The v2 response-split profile (`pii-leak-benchmark-v2 --exhaustive-splits`) puts the values in
other request sites (system prompt, tool descriptions, percent-encoded) and cuts the echoed
answer at every internal point: no value may reach the upstream and every echoed placeholder
must come back (FidelityRate 1.0). Its other half, LeakRate, counts values the *upstream*
injects into the answer that were never in the prompt; the gateway restores its own
placeholders and does not redact answers, so that half is reported (docs/pii.md), not asserted.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import TEST_KEY, wait_healthy

BIN = Path(sys.executable).parent
BENCHMARK = BIN / "pii-leak-benchmark"
BENCHMARK_V2 = BIN / "pii-leak-benchmark-v2"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BENCHMARK.exists(), reason="pii-leak-benchmark (dev extra) missing"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _policy(capture_port: int) -> str:
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    return textwrap.dedent(f"""\
        version: 1
        reference_model: capture
        models:
          capture:
            tier: cloud
            backend: openai_compat
            model: capture-model
            api_base: "http://127.0.0.1:{capture_port}/v1"
            timeout_s: 30
            input_cost_per_token: 0.000001
            output_cost_per_token: 0.000002
        apps:
          - {{name: app1, tenant: t1, key_sha256: {digest}}}
        pii:
          entities:
            DEFAULT: placeholder
        default: {{action: cloud_redacted, target: capture}}
        """)


def _serve_command() -> list[str]:
    script = BIN / "hybridgw"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from gateway.cli import main; main()"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """(gateway /v1 URL, capture port, scratch dir) of a running `hybridgw serve`."""
    tmp = tmp_path_factory.mktemp("pii-conformance")
    capture_port, port = _free_port(), _free_port()
    policy = tmp / "policy.yaml"
    policy.write_text(_policy(capture_port))
    env = {
        **os.environ,
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_DATABASE_URL": f"sqlite:///{tmp / 'ledger.db'}",
    }
    argv = [*_serve_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "1", "--policy", str(policy)]
    with (tmp / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, proc)
            yield f"{base}/v1", capture_port, tmp
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)


def _benchmark(
    args: list[str], cwd: Path, binary: Path = BENCHMARK
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONFORMANCE_TARGET_API_KEY": TEST_KEY}
    return subprocess.run(
        [str(binary), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_selfcheck_with_credentials_is_clean(served: tuple[str, int, Path]) -> None:
    url, capture_port, tmp = served
    report_path = tmp / "selfcheck.json"
    done = _benchmark(
        [
            *("selfcheck", "--target-base-url", url, "--capture-port", str(capture_port)),
            *("--target-model", "auto", "--profile", "pii-secrets-v1"),
            *("--json-out", str(report_path)),
        ],
        tmp,
    )
    report = json.loads(report_path.read_text())
    checks = {name: check["passed"] for name, check in report["checks"].items()}
    boundary = report["checks"]["configured_upstream_boundary"]
    assert boundary["leaked_entity_types"] == [], done.stdout
    assert boundary["correlated_requests"] >= 1  # the capture saw this run's traffic
    assert set(report["fixture"]["formats"]) >= {"SSN", "AWS_ACCESS_KEY_ID", "GITHUB_TOKEN"}
    assert all(checks.values()), (checks, done.stdout[-3000:])
    assert done.returncode == 0 and "CLEAN" in done.stdout


def test_ci_with_negative_control_is_clean(served: tuple[str, int, Path]) -> None:
    url, capture_port, tmp = served
    out = tmp / "ci"
    done = _benchmark(
        [
            *("ci", "--target-base-url", url, "--capture-port", str(capture_port)),
            *("--target-model", "auto", "--out", str(out)),
        ],
        tmp,
    )
    control = json.loads((out / "control.raw.json").read_text())
    run = json.loads((out / "current.json").read_text())
    # The control (no gateway) must leak every type, or the run proves nothing.
    assert control["checks"]["configured_upstream_boundary"]["leaked_entity_types"]
    assert run["verdict"] == "CLEAN", (run.get("reason"), done.stdout[-3000:])
    assert set(run["entities"].values()) == {"contained"}
    assert run["required_checks"] and all(run["required_checks"].values())
    assert done.returncode == 0


def test_v2_exhaustive_splits_no_request_leak_and_full_fidelity(
    served: tuple[str, int, Path],
) -> None:
    url, capture_port, tmp = served
    out = tmp / "v2"
    done = _benchmark(
        [
            *("--out", str(out), "--only", "hybridgw", "--model", "auto"),
            *("--gateway-url", f"{url}/chat/completions", "--upstream-port", str(capture_port)),
            *("--exhaustive-splits", "--json-out", str(out / "summary.json")),
        ],
        tmp,
        BENCHMARK_V2,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads((out / "summary.json").read_text())["rows"][0]
    assert row["request_path_leak"] == [], row  # no site, encoding or split leaked upstream
    assert row["fidelity_rate"] == 1.0, row  # every echoed placeholder restored, at every cut
    assert row["echo_observable"] >= 24, row  # (unknown top-level keys get a 400: unscored)
