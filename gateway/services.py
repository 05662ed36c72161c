"""The objects one gateway process runs on, built in `create_app`'s lifespan and torn down after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.accounting import Accountant
from gateway.backends import BackendPool
from gateway.circuit import CircuitView, circuit_config, views
from gateway.ledger.factory import build_ledger
from gateway.ledger.spooled import SpooledLedger
from gateway.metrics import Metrics
from gateway.pipeline import Pipeline
from gateway.privacy import Privacy
from gateway.settings import Settings
from gateway.state.broadcast import PolicySync
from gateway.state.factory import SharedState, build_state, memory_state
from kernel.backends import LocalDefaults
from kernel.protocols import Backend, Classifier, Ledger
from policies.loader import LoadedPolicy, default_policy_path
from policies.store import PolicyStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    policies: PolicyStore
    backends: BackendPool
    ledger: Ledger
    pipeline: Pipeline
    background: list[asyncio.Task[None]] = field(default_factory=list)
    state: SharedState = field(default_factory=memory_state)
    metrics: Metrics = field(default_factory=Metrics)
    policy_sync: PolicySync | None = None

    def circuits(self) -> list[CircuitView]:
        """Every circuit breaker of the process: Redis, the ledger store, each backend alias."""
        ledger = [self.ledger.circuit] if isinstance(self.ledger, SpooledLedger) else []
        return views([*self.state.circuits, *ledger, *self.backends.circuits()])

    def journal_pending(self) -> int:
        """Ledger rows this process journaled and has not yet committed (0 without a journal)."""
        journal = self.ledger.journal if isinstance(self.ledger, SpooledLedger) else None
        return journal.pending() if journal is not None else 0

    async def aclose(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.pipeline.aclose()
        await self.backends.aclose()
        await self.ledger.aclose()
        if self.policy_sync is not None:
            self.policy_sync.stop()
        await self.state.aclose()


def _onnx_classifier(settings: Settings) -> Classifier:
    from router.classifier import OnnxClassifier

    return OnnxClassifier(
        settings.classifier_model_path, intra_op_threads=settings.classifier_threads
    )


def _fake_classifier(settings: Settings) -> Classifier:
    from router.fakes import FakeClassifier

    return FakeClassifier(settings.fake_difficulty, settings.fake_sensitivity)


CLASSIFIERS: dict[str, Callable[[Settings], Classifier]] = {
    "onnx": _onnx_classifier,
    "fake": _fake_classifier,
}


def build_classifier(settings: Settings) -> Classifier:
    """The classifier `HYBRIDGW_CLASSIFIER` names, from the registry above."""
    return CLASSIFIERS[settings.classifier](settings)


async def build_services(
    settings: Settings,
    *,
    classifier: Classifier | None = None,
    ledger: Ledger | None = None,
    backends: Mapping[str, Backend] | None = None,
) -> Services:
    """Everything a request needs. A bad policy file raises here, so the process will not start."""
    policies = PolicyStore(settings.policy_file or default_policy_path())
    pool = BackendPool(
        LocalDefaults(
            model_path=settings.local_model_path,
            threads=settings.local_threads,
            n_ctx=settings.local_context,
            max_queue=settings.local_max_queue,
            max_tokens=settings.local_max_tokens,
        ),
        overrides=backends,
        circuit=circuit_config(settings),
        max_in_flight=settings.backend_max_in_flight,
    )
    pool.configure(policies.current.document.models)

    def reconfigure(loaded: LoadedPolicy) -> None:
        pool.configure(loaded.document.models)

    policies.subscribe(reconfigure)
    ledger = ledger or await build_ledger(settings)
    if classifier is None:
        classifier = await asyncio.to_thread(build_classifier, settings)
    metrics = Metrics()
    state = build_state(settings, on_outage=metrics.outage)
    privacy = Privacy(engine=settings.pii_name_model)
    pipeline = Pipeline(
        classifier=classifier,
        privacy=privacy,
        backends=pool,
        ledger=ledger,
        accountant=Accountant(
            settings.local_cost_per_million_tokens,
            local_cost_per_hour=settings.local_cost_per_hour,
            local_tokens_per_second=settings.local_tokens_per_second,
        ),
        state=state,
        metrics=metrics,
        request_timeout_s=settings.request_timeout_s,
    )
    services = Services(settings, policies, pool, ledger, pipeline, state=state, metrics=metrics)
    metrics.watch_circuits(services.circuits)
    services.policy_sync = PolicySync(policies, state.broadcaster)
    services.background.append(services.policy_sync.start())
    if settings.policy_watch:
        services.background.append(asyncio.create_task(policies.watch()))
    if settings.load_local_on_start:
        services.background.append(asyncio.create_task(_load_local(pool)))
        services.background.append(asyncio.create_task(_warm_up_pii(privacy, policies.current)))
    return services


async def _load_local(backends: BackendPool) -> None:
    try:
        await backends.start_local()
    except Exception:
        log.exception("loading the local model failed; /readyz will report it")


async def _warm_up_pii(privacy: Privacy, policy: LoadedPolicy) -> None:
    """Load the PII model (names, addresses) before the first request that needs it."""
    try:
        loaded = await asyncio.to_thread(privacy.warm_up, policy.version, policy.document)
    except Exception:
        log.exception("loading the PII model failed; cloud hops are withheld until it loads")
        return
    if not loaded and privacy.for_policy(policy.version, policy.document).model_part_needed:
        log.warning("PII model unavailable; cloud hops are withheld while it is missing")
