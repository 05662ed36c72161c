"""The servers the HTTP benchmarks compare, each started as its own process group on 127.0.0.1:
the mock upstream, our gateway (production settings, a cloud-hop policy) and LiteLLM proxy
(in its own virtualenv, configured as its production docs recommend).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Processes, Started, clean_env, free_port, wait_http

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
POLICY_TEMPLATE = Path(__file__).with_name("policies") / "cloud_hop.yaml"
# Peers' own virtualenvs (and node_modules), built once and reused: $HYBRIDGW_BENCH_CACHE or
# ~/.cache/hybridgw-bench/<peer>.
CACHE = Path(os.environ.get("HYBRIDGW_BENCH_CACHE", Path.home() / ".cache" / "hybridgw-bench"))
LITELLM_VENV = CACHE / "litellm"
GATEWAY_KEY = "sk-bench-key"
LITELLM_KEY = "sk-bench-master"
MOCK_KEY = "sk-mock"
MODEL = "gpt-4o-mini"


@dataclass
class Server:
    label: str
    proc: Started
    url: str  # the chat completions URL
    key: str
    model: str  # the `model` field clients send
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request
    streams: bool = True  # measured for streaming time to first byte


def python() -> str:
    return str(PYTHON) if PYTHON.exists() else sys.executable


def classifier_setting() -> str:
    """`onnx` when the router's ONNX classifier is in the tree, else `fake` (say so in reports)."""
    shipped = (ROOT / "router" / "classifier.py").exists() and (
        ROOT / "router" / "models" / "model.onnx"
    ).exists()
    return "onnx" if shipped else "fake"


def gateway_env(
    ledger: Path, *, pass_through: bool = False, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """What every benchmark serves our gateway with: the shipped classifier (fixed scores for
    pass-through), a SQLite ledger at `ledger`, the local model not loaded at start, the mock's
    key for the cloud tier; `extra` on top."""
    return clean_env(
        {
            "HYBRIDGW_CLASSIFIER": "fake" if pass_through else classifier_setting(),
            "HYBRIDGW_DATABASE_URL": str(ledger),
            "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
            "BENCH_CLOUD_KEY": MOCK_KEY,
            **(extra or {}),
        }
    )


def parse_target(spec: str) -> tuple[str, Path, dict[str, str]]:
    """`LABEL=TREE[,ENV=VALUE...]` (the paired benchmarks' targets): label, tree, extra env."""
    label, _, rest = spec.partition("=")
    tree, *extra = rest.split(",")
    return label, Path(tree).resolve(), dict(e.split("=", 1) for e in extra)


def start_mock(procs: Processes) -> Server:
    port = free_port()
    proc = procs.start(
        "mock",
        [python(), "-m", "bench.mock_server", "--port", str(port)],
        env=clean_env(),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_port(proc, port)
    return Server("direct to mock", proc, f"{base}/v1/chat/completions", MOCK_KEY, MODEL)


def wait_port(proc: Started, port: int, timeout_s: float = 30) -> None:
    import socket
    import time

    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{proc.name} did not listen on {port}")


def write_policy(directory: Path, backend: str, mock: Server, *, scan_model: bool = True) -> Path:
    """The cloud-hop policy with its cloud tier on `backend`, pointed at the mock;
    `scan_model=False` turns off the PII name model (patterns and validators only)."""
    base = mock.url.removesuffix("/chat/completions")
    model = f"openai/{MODEL}" if backend == "litellm" else MODEL
    text = (
        POLICY_TEMPLATE.read_text()
        .replace("@CLOUD_BACKEND@", backend)
        .replace("@CLOUD_MODEL@", model)
        .replace("@MOCK_BASE@", base)
    )
    suffix = ""
    if not scan_model:
        text = text.replace("\npii:\n", "\npii:\n  scan_model: false\n", 1)
        suffix = "-patterns-only"
    path = directory / f"policy-{backend}{suffix}.yaml"
    path.write_text(text)
    return path


_ENTRY_POINT = "from gateway.cli import main; main()"


def gateway_command() -> list[str]:
    """`hybridgw` (the console script) if installed, else the same entry point through python."""
    script = ROOT / ".venv" / "bin" / "hybridgw"
    if script.exists():
        return [str(script)]
    return [python(), "-c", _ENTRY_POINT]


def serve_argv(port: int, workers: int, policy: Path, *, tree: Path = ROOT) -> list[str]:
    """The `hybridgw serve` command line on 127.0.0.1:`port`; for another checkout `tree`,
    its own entry point (`python -c` imports from the working directory first: run it there)."""
    command = gateway_command() if tree == ROOT else [python(), "-c", _ENTRY_POINT]
    return [
        *command,
        *("serve", "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(workers), "--policy", str(policy)),
    ]


def start_gateway(
    procs: Processes,
    directory: Path,
    *,
    backend: str,
    mock: Server,
    workers: int = 2,
    name: str | None = None,
    scan_model: bool = True,
) -> Server:
    """`hybridgw serve --workers N`: default settings except the policy and the ledger file
    (SQLite in `directory`, synchronous=NORMAL, the default); the local model is not loaded
    at start (no benchmark request is routed to it)."""
    port = free_port()
    policy = write_policy(directory, backend, mock, scan_model=scan_model)
    tag = "" if scan_model else "-patterns-only"
    env = gateway_env(directory / f"ledger-{backend}{tag}.db")
    argv = serve_argv(port, workers, policy)
    proc = procs.start(name or f"gateway-{backend}{tag}", argv, env=env, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout_s=120)
    label = f"ours, cloud via {backend}" + ("" if scan_model else ", no name model")
    return Server(label, proc, f"http://127.0.0.1:{port}/v1/chat/completions", GATEWAY_KEY, "auto")


def ensure_venv(venv: Path, packages: list[str], *, marker: str) -> Path:
    """`venv` with `packages` installed (created once; reused while the `marker` glob, relative
    to the venv, matches something)."""
    if any(venv.glob(marker)):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    system_python = shutil.which("python3") or sys.executable
    subprocess.run([system_python, "-m", "venv", str(venv)], check=True)
    pip = str(venv / "bin" / "pip")
    subprocess.run([pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([pip, "install", "-q", *packages], check=True)
    return venv


def ensure_litellm_venv() -> Path:
    """The cache's litellm venv with `litellm[proxy]`; returns its `litellm` script."""
    venv = ensure_venv(LITELLM_VENV, ["litellm[proxy]", "uvloop"], marker="bin/litellm")
    return venv / "bin" / "litellm"


def venv_version(venv: Path, package: str) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "pip"), "show", package],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def litellm_version() -> str:
    return venv_version(LITELLM_VENV, "litellm")


LITELLM_CONFIG = """\
# LiteLLM proxy as its production docs recommend (docs.litellm.ai/docs/proxy/prod), minus what
# needs services we do not run: no database (so no spend logs), no Redis, no alerting.
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {api_base}
      api_key: {api_key}
litellm_settings:
  set_verbose: false
  json_logs: true
  drop_params: true
  request_timeout: 600
general_settings:
  master_key: {master_key}
  disable_spend_logs: true
  disable_error_logs: true
  proxy_batch_write_at: 60
"""


def start_litellm(procs: Processes, directory: Path, *, mock: Server, workers: int = 2) -> Server:
    binary = ensure_litellm_venv()
    port = free_port()
    config = directory / "litellm.yaml"
    config.write_text(
        textwrap.dedent(
            LITELLM_CONFIG.format(
                model=MODEL,
                api_base=mock.url.removesuffix("/chat/completions"),
                api_key=MOCK_KEY,
                master_key=LITELLM_KEY,
            )
        )
    )
    env = clean_env(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "LITELLM_MODE": "PRODUCTION",
            "JSON_LOGS": "True",
        }
    )
    argv = [
        str(binary),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        str(workers),
        # uvicorn kills a worker that does not answer its health ping within 5 s; importing the
        # proxy takes longer than that on a busy 2-core machine (endless restarts otherwise).
        "--timeout_worker_healthcheck",
        "120",
    ]
    proc = procs.start("litellm-proxy", argv, env=env, cwd=directory)
    wait_http(f"http://127.0.0.1:{port}/health/liveliness", proc, timeout_s=240)
    return Server(
        f"LiteLLM proxy {litellm_version()}",
        proc,
        f"http://127.0.0.1:{port}/v1/chat/completions",
        LITELLM_KEY,
        MODEL,
    )
