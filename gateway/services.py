"""The objects one gateway process runs on, built in `create_app`'s lifespan and torn down after."""

from __future__ import annotations

import asyncio
import logging
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
from kernel.protocols import Classifier, Ledger
from local_backends.registry import LocalDefaults
from policies.loader import LoadedPolicy, default_policy_path
from policies.schema import PolicyDocument
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

    async def aclose(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.backends.aclose()
        await self.ledger.aclose()
        if self.policy_sync is not None:
            self.policy_sync.stop()
        await self.state.aclose()


def build_classifier(settings: Settings) -> Classifier:
    if settings.classifier == "fake":
        from router.fakes import FakeClassifier

        return FakeClassifier(settings.fake_difficulty, settings.fake_sensitivity)
    from router.classifier import OnnxClassifier

    return OnnxClassifier(
        settings.classifier_model_path, intra_op_threads=settings.classifier_threads
    )


async def build_services(
    settings: Settings,
    *,
    classifier: Classifier | None = None,
    ledger: Ledger | None = None,
) -> Services:
    """Everything a request needs. A bad policy file raises here, so the process will not start."""
    policies = PolicyStore(settings.policy_file or default_policy_path())
    backends = BackendPool(
        LocalDefaults(
            model_path=settings.local_model_path,
            threads=settings.local_threads,
            n_ctx=settings.local_context,
            max_queue=settings.local_max_queue,
            max_tokens=settings.local_max_tokens,
        ),
        circuit=circuit_config(settings),
        max_in_flight=settings.backend_max_in_flight,
    )
    backends.configure(policies.current.document.models)

    def reconfigure(loaded: LoadedPolicy) -> None:
        backends.configure(loaded.document.models)

    policies.subscribe(reconfigure)
    ledger = ledger or await build_ledger(settings)
    if classifier is None:
        classifier = await asyncio.to_thread(build_classifier, settings)
    metrics = Metrics()
    state = build_state(settings, on_outage=metrics.outage)
    privacy = Privacy(engine=settings.pii_name_model)
    pipeline = Pipeline(
        policies=policies,
        classifier=classifier,
        privacy=privacy,
        backends=backends,
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
    services = Services(
        settings, policies, backends, ledger, pipeline, state=state, metrics=metrics
    )
    metrics.watch_circuits(services.circuits)
    services.policy_sync = PolicySync(policies, state.broadcaster)
    services.background.append(services.policy_sync.start())
    if settings.policy_watch:
        services.background.append(asyncio.create_task(policies.watch()))
    if settings.load_local_on_start:
        services.background.append(asyncio.create_task(_load_local(backends)))
        services.background.append(
            asyncio.create_task(_warm_up_pii(privacy, policies.current.document))
        )
    return services


async def _load_local(backends: BackendPool) -> None:
    try:
        await backends.start_local()
    except Exception:
        log.exception("loading the local model failed; /readyz will report it")


async def _warm_up_pii(privacy: Privacy, policy: PolicyDocument) -> None:
    """Load the PII model (names, addresses) before the first request that needs it."""
    try:
        loaded = await asyncio.to_thread(privacy.warm_up, policy)
    except Exception:
        log.exception("loading the PII model failed; names and addresses go undetected")
        return
    if not loaded and privacy.scanner(policy).model_enabled:
        log.warning("PII model unavailable; names and addresses go undetected")
