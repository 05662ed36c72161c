"""Process settings: environment variables `HYBRIDGW_*`, an optional `.env`, an optional YAML file.

Precedence, highest first: constructor arguments, environment, `.env`, the YAML file named by
`HYBRIDGW_CONFIG_FILE`, defaults. Routing lives in the policy file, not here: settings say *how*
the process runs (ports, threads, stores), the policy says *where* requests go.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every setting the gateway reads. The README's configuration table documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="HYBRIDGW_", env_file=".env", extra="ignore", validate_default=True
    )

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on.")
    workers: int = Field(
        default=1,
        ge=1,
        description="Worker processes (more than one: forked by `gateway.supervisor`).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    gc_freeze: bool = Field(
        default=True,
        description=(
            "Move what start-up allocated (modules, models, policy) out of the cyclic garbage"
            " collector's reach: a full collection of it stalled the event loop ~250 ms."
        ),
    )
    config_file: Path | None = Field(default=None, description="Optional YAML file of settings.")

    policy_file: Path | None = Field(
        default=None, description="Routing policy YAML (default: the embedded default policy)."
    )
    policy_watch: bool = Field(default=True, description="Reload the policy when the file changes.")

    local_model_path: Path | None = Field(
        default=None, description="GGUF for the llamacpp backend (default: SmolLM2-135M-Instruct)."
    )
    local_threads: int = Field(default=2, ge=1, description="llama.cpp threads.")
    local_context: int = Field(default=4096, ge=256, description="llama.cpp context window.")
    local_max_queue: int = Field(
        default=8, ge=0, description="Local requests allowed to wait; beyond it, 429."
    )
    local_max_tokens: int = Field(
        default=512, ge=1, description="Completion cap for local answers when a client sets none."
    )
    load_local_on_start: bool = Field(
        default=True, description="Load the local model at start-up (readyz waits for it)."
    )

    classifier: Literal["onnx", "fake"] = Field(
        default="onnx", description="onnx: the shipped model; fake: fixed scores (tests, demos)."
    )
    classifier_model_path: Path | None = Field(
        default=None, description="ONNX classifier file (default: the shipped model)."
    )
    classifier_threads: int = Field(default=1, ge=1, description="onnxruntime intra-op threads.")
    fake_difficulty: float = Field(default=0.0, ge=0, le=1)
    fake_sensitivity: float = Field(default=0.0, ge=0, le=1)

    pii_name_model: Literal["tagger", "spacy"] = Field(
        default="tagger",
        description=(
            "Model for names and places: tagger = our linear token classifier (~2 ms for "
            "500 tokens), spacy = spaCy's small English NER (~50x slower). See docs/pii.md."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted; beyond it, 413."
    )
    max_prompt_chars: int = Field(
        default=200_000, ge=1, description="Largest total message text accepted; beyond it, 400."
    )
    request_timeout_s: float = Field(
        default=120.0, gt=0, description="Upper bound on one request end to end."
    )
    cors_origins: str = Field(
        default="",
        description="Browser origins allowed by CORS, comma-separated (`*` for any; empty: off).",
    )

    database_url: str | None = Field(
        default=None,
        description="Ledger store: postgresql://…, sqlite:///path or a file path "
        "(default: SQLite file hybridgw.db in the working directory).",
    )
    ledger_sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite fsync level: NORMAL (default) survives a crash or kill -9 of the "
        "gateway; FULL also an OS crash or power loss, at an fsync per commit (and per "
        "journal append).",
    )
    ledger_journal: bool = Field(
        default=True,
        description="Answers wait only for an append to the local ledger journal (a file; "
        "survives kill -9) and the store is written right after, off the answer path. Off: "
        "every answer waits for the store's commit (up to HYBRIDGW_LEDGER_WAIT_MS).",
    )
    ledger_journal_fsync: bool = Field(
        default=False,
        description="fdatasync every journal append, so an answered request survives a power "
        "cut too (always on with HYBRIDGW_LEDGER_SQLITE_SYNCHRONOUS=FULL).",
    )
    ledger_wait_ms: float = Field(
        default=200.0,
        gt=0,
        description="Longest an answer waits for the ledger store; a slower or failed write goes "
        "to the local spool instead (drained into the store when it recovers).",
    )
    ledger_spool_path: Path | None = Field(
        default=None,
        description="Local durable spool (SQLite WAL) for ledger records the store could not "
        "take in time (default: hybridgw-spool-<store id>.db in the working directory, one "
        "file per ledger store).",
    )
    local_cost_per_million_tokens: float = Field(
        default=0.0, ge=0, description="Local cost, USD per 1M tokens (default 0 marginal)."
    )
    local_cost_per_hour: float = Field(
        default=0.0, ge=0, description="Local hardware, USD per hour, amortised over throughput."
    )
    local_tokens_per_second: float | None = Field(
        default=None, gt=0, description="Throughput for the hourly rate (default: measured)."
    )
    reference_latency_estimate_ms: float = Field(
        default=1500.0,
        gt=0,
        description="Reference cloud model latency used, labelled estimated, until measured.",
    )
    redis_url: str | None = Field(default=None, description="Redis for shared state (scale-out).")
    redis_key_prefix: str = Field(
        default="hybridgw",
        min_length=1,
        description="Namespace of every Redis key and channel (one per fleet sharing a Redis).",
    )
    redis_failure_mode: Literal["open", "closed"] = Field(
        default="open",
        description=(
            "When Redis is unreachable: open = serve without rate limits and budget checks "
            "(logged); closed = refuse with 503. The response cache always fails open (a miss)."
        ),
    )
    redis_timeout_s: float = Field(
        default=1.0, gt=0, description="Connect and read timeout of one Redis call."
    )
    circuit_failures: int = Field(
        default=5,
        ge=1,
        description="Consecutive failures or timeouts after which Redis, a backend or the "
        "ledger store is skipped (its circuit opens) until a probe succeeds.",
    )
    circuit_backoff_s: float = Field(
        default=1.0, gt=0, description="First wait before an open circuit is probed again."
    )
    circuit_max_backoff_s: float = Field(
        default=30.0, gt=0, description="Longest wait between probes (the wait doubles per miss)."
    )
    backend_max_in_flight: int = Field(
        default=64,
        ge=1,
        description="Requests one model alias may have in flight (and its connection-pool "
        "size); beyond it the alias is skipped as unavailable, so a hung model cannot starve "
        "the others.",
    )
    admin_key: SecretStr | None = Field(default=None, description="Key for /admin endpoints.")
    finance_key: SecretStr | None = Field(
        default=None, description="Key for reports and the dashboard."
    )

    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get("HYBRIDGW_CONFIG_FILE")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        sources.append(file_secret_settings)
        return tuple(sources)
