"""The peer gateways bench/bench_peers.py compares ours with, each on 127.0.0.1 in its own process
group, each installed once into the benchmark cache (`servers.CACHE`) and reused after:

- TensorZero: the PyPI `tensorzero` wheel embeds the Rust gateway;
  `tensorzero._start_http_gateway(config_file=…)` serves its OpenAI-compatible API
  (`/openai/v1/chat/completions`, model `tensorzero::model_name::<name>`). Observability off.
- Portkey: `npm install @portkey-ai/gateway` (Node). It listens on every interface by default,
  so a preload script pins `listen()` to 127.0.0.1. The upstream is named per request with
  `x-portkey-provider: openai` and `x-portkey-custom-host`.
- Ours without features ("pass-through"): no PII types, fixed classifier scores.
- The Python floor (`bench/floor_proxy.py`): on our server stack, an ASGI app that only forwards
  the body to the mock; what any gateway on this stack pays before doing anything.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from bench.procs import Processes, Started, clean_env, free_port, wait_http
from bench.servers import (
    CACHE,
    GATEWAY_KEY,
    MOCK_KEY,
    MODEL,
    ROOT,
    Server,
    ensure_venv,
    gateway_env,
    python,
    serve_argv,
    venv_version,
    wait_port,
    write_policy,
)

TENSORZERO_VENV = CACHE / "tensorzero"
PORTKEY_DIR = CACHE / "portkey"
PORTKEY_MAIN = (
    PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
)

TENSORZERO_CONFIG = """\
[gateway]
observability.enabled = false

[models."{model}"]
routing = ["mock"]

[models."{model}".providers.mock]
type = "openai"
model_name = "{model}"
api_base = "{api_base}/"
api_key_location = "env::BENCH_CLOUD_KEY"
"""

# Prints the embedded gateway's base URL, then keeps the process (and the gateway) alive.
TENSORZERO_LAUNCHER = """\
import sys, threading, tensorzero
gateway = tensorzero._start_http_gateway(
    config_file=sys.argv[1], clickhouse_url=None, postgres_url=None, valkey_url=None,
    async_setup=False,
)
print("TENSORZERO_BASE_URL", gateway.base_url, flush=True)
threading.Event().wait()
"""

# Node preload: every server listens on 127.0.0.1 whatever the application asked for.
BIND_LOCAL = """\
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number") {
    const callbacks = args.slice(1).filter((a) => typeof a === "function");
    return listen.call(this, args[0], "127.0.0.1", ...callbacks);
  }
  if (args[0] && typeof args[0] === "object") {
    return listen.call(this, { ...args[0], host: "127.0.0.1" }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
"""


def _mock_base(mock: Server) -> str:
    return mock.url.removesuffix("/chat/completions")


def start_tensorzero(procs: Processes, directory: Path, *, mock: Server) -> Server:
    venv = ensure_venv(
        TENSORZERO_VENV, ["tensorzero"], marker="lib/python*/site-packages/tensorzero"
    )
    python = venv / "bin" / "python"
    config = directory / "tensorzero.toml"
    config.write_text(TENSORZERO_CONFIG.format(model=MODEL, api_base=_mock_base(mock)))
    env = clean_env({"BENCH_CLOUD_KEY": MOCK_KEY, "RUST_LOG": "warn"})
    argv = [str(python), "-c", TENSORZERO_LAUNCHER, str(config)]
    proc = procs.start("tensorzero", argv, env=env, cwd=directory)
    base = _wait_for_line(proc, re.compile(r"TENSORZERO_BASE_URL (\S+)"), timeout_s=60)
    return Server(
        f"TensorZero {venv_version(TENSORZERO_VENV, 'tensorzero')}",
        proc,
        f"{base.rstrip('/')}/chat/completions",
        "unused",
        f"tensorzero::model_name::{MODEL}",
    )


def ensure_portkey() -> Path | None:
    """The Portkey gateway's entry script (npm-installed once), or None without npm."""
    if PORTKEY_MAIN.exists():
        return PORTKEY_MAIN
    npm = shutil.which("npm")
    if npm is None:
        return None
    PORTKEY_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "@portkey-ai/gateway"],
        cwd=PORTKEY_DIR,
        check=True,
    )
    return PORTKEY_MAIN if PORTKEY_MAIN.exists() else None


def portkey_version() -> str:
    package = PORTKEY_MAIN.parents[1] / "package.json"
    found = re.search(r'"version":\s*"([^"]+)"', package.read_text())
    return found.group(1) if found else "unknown"


def start_portkey(procs: Processes, directory: Path, *, mock: Server) -> Server | None:
    main = ensure_portkey()
    node = shutil.which("node")
    if main is None or node is None:
        return None
    preload = directory / "bind-local.cjs"
    preload.write_text(BIND_LOCAL)
    port = free_port()
    env = clean_env({"NODE_ENV": "production"})
    argv = [node, "--require", str(preload), str(main), f"--port={port}", "--headless"]
    proc = procs.start("portkey", argv, env=env, cwd=directory)
    wait_port(proc, port)
    server = Server(
        f"Portkey {portkey_version()}",
        proc,
        f"http://127.0.0.1:{port}/v1/chat/completions",
        MOCK_KEY,
        MODEL,
    )
    server.headers.update(
        {"x-portkey-provider": "openai", "x-portkey-custom-host": _mock_base(mock)}
    )
    server.streams = False
    return server


def start_ours(
    procs: Processes,
    directory: Path,
    *,
    mock: Server,
    pass_through: bool,
    workers: int = 2,
    ledger_full: bool = False,
    tree: Path = ROOT,
    version: str = "",
    extra_env: dict[str, str] | None = None,
) -> Server:
    """`hybridgw serve --workers N`, cloud via openai_compat. Full path: the benchmark
    policy's PII entities and protect rules, the ONNX classifier. Pass-through: no PII types,
    fixed scores (`HYBRIDGW_CLASSIFIER=fake`, difficulty and sensitivity 0). `ledger_full`:
    the SQLite ledger fsyncs every commit (`synchronous=FULL`; the default is NORMAL).
    `tree`: serve the gateway code of another checkout (e.g. an earlier commit, labelled
    `version`), with the same policy and settings. `extra_env`: added to the environment."""
    port = free_port()
    name = ("pass-through" if pass_through else "full") + ("-fsync" if ledger_full else "")
    name += f"-{version}" if version else ""
    policy = write_policy(directory, "openai_compat", mock)
    if pass_through:
        policy = _without_pii(policy)
    synchronous = {"HYBRIDGW_LEDGER_SQLITE_SYNCHRONOUS": "FULL" if ledger_full else "NORMAL"}
    env = gateway_env(
        directory / f"ledger-{name}.db",
        pass_through=pass_through,
        extra={**synchronous, **(extra_env or {})},
    )
    argv = serve_argv(port, workers, policy, tree=tree)
    proc = procs.start(f"gateway-{name}", argv, env=env, cwd=tree)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout_s=120)
    label = "ours" + (f" at {version}" if version else "")
    label += ", pass-through" if pass_through else ", full path"
    if ledger_full:
        label += " (ledger FULL)"
    return Server(label, proc, f"http://127.0.0.1:{port}/v1/chat/completions", GATEWAY_KEY, "auto")


def start_floor(procs: Processes, *, mock: Server, workers: int = 2) -> Server:
    """`bench/floor_proxy.py` under uvicorn with the flags `hybridgw serve` runs its workers
    with (httptools, uvloop, no access log), `workers` processes."""
    port = free_port()
    argv = [
        *(python(), "-m", "uvicorn", "bench.floor_proxy:app"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"),
    ]
    env = clean_env({"BENCH_UPSTREAM": _mock_base(mock)})
    proc = procs.start("python-floor", argv, env=env, cwd=ROOT)
    wait_port(proc, port)
    return Server(
        "Python floor (ASGI forward only)",
        proc,
        f"http://127.0.0.1:{port}/v1/chat/completions",
        MOCK_KEY,
        MODEL,
    )


def _without_pii(policy: Path) -> Path:
    """The same policy with no PII types and no rule on them."""
    text = policy.read_text()
    text = re.sub(r"\npii:\n(?:  .*\n)+", "\npii:\n  entities: {}\n", text, count=1)
    text = re.sub(r"  - name: credentials-stay-local\n(?:    .*\n)+", "", text, count=1)
    out = policy.with_name(policy.stem + "-pass-through.yaml")
    out.write_text(text)
    return out


def _wait_for_line(proc: Started, pattern: re.Pattern[str], timeout_s: float) -> str:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        found = pattern.search(proc.log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise TimeoutError(f"{proc.name} printed no address:\n{proc.tail()}")
