"""One request through small stages, each taking and returning immutable values:

    Exchange (edge: id, caller, pinned policy, request, start)
      → admission  (rate limits, budgets)              → Admission
      → planning   (scan + classify + decide, off-loop) → Plan (nothing pending)
      → cache      (opted-in apps, no PII)
      → dispatch   (one candidate loop for complete and stream) → Served
      → relay      (stream: tally + restore)
      → outcome    (usage, the single ledger write)

`Pipeline` (orchestrator.py) sequences them; the routing choice itself is `router.decide()`.
"""

from gateway.pipeline.exchange import Exchange, Explanation, Route, Streamed
from gateway.pipeline.orchestrator import Pipeline

__all__ = ["Exchange", "Explanation", "Pipeline", "Route", "Streamed"]
