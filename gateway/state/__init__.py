"""Shared state: rate limits, budgets, the response cache and policy-version broadcast.

One Protocol per seam (`protocols.py`), each with an in-process implementation (`memory.py`, the
embedded default) and a Redis one (`redis_state.py`, `broadcast.py`) that many replicas share.
`factory.build_state(settings)` picks Redis when `HYBRIDGW_REDIS_URL` is set; `guard.py` applies
`HYBRIDGW_REDIS_FAILURE_MODE` when Redis is unreachable.
"""
