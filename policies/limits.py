"""Policy sections for shared state: rate limits, monthly budgets and the response cache.

```yaml
limits:
  apps:    {app1: {requests_per_minute: 600, tokens_per_minute: 100000}}
  tenants: {acme: {requests_per_minute: 3000}}
  keys:    {"3f2a9c0d81b4": {requests_per_minute: 60}}   # key id: first 12 hex of its SHA-256
budgets:
  tenants: {acme: {monthly_usd: {soft: 800, hard: 1000}}}
  apps:    {app1: {monthly_usd: {hard: 50}}}
cache: {ttl_s: 300}            # apps opt in with `apps[].cache: true`
```

Every limit is optional; a scope without an entry is unlimited. Budgets run per calendar month
(UTC). Over the soft limit, requests that would go to the cloud are served locally; at the hard
limit they are refused with 429 `budget_exceeded`.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(_Strict):
    """Requests and/or tokens per minute for one scope (a key, an app or a tenant)."""

    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(
        default=None, ge=1, description="Prompt + completion tokens, estimated up front."
    )


class LimitsConfig(_Strict):
    """Rate limits by scope. A request must fit every scope it belongs to."""

    keys: dict[str, RateLimit] = Field(
        default_factory=dict,
        description="By key id: the first 12 hex characters of the key's SHA-256.",
    )
    apps: dict[str, RateLimit] = Field(default_factory=dict)
    tenants: dict[str, RateLimit] = Field(default_factory=dict)


class MonthlyUsd(_Strict):
    """A calendar-month (UTC) spending limit in USD."""

    soft: float | None = Field(default=None, ge=0, description="Over it: local only.")
    hard: float | None = Field(default=None, ge=0, description="At it: 429 budget_exceeded.")

    @model_validator(mode="after")
    def _soft_below_hard(self) -> Self:
        if self.soft is not None and self.hard is not None and self.soft > self.hard:
            raise ValueError("soft budget must not exceed the hard budget")
        return self


class Budget(_Strict):
    monthly_usd: MonthlyUsd


class BudgetsConfig(_Strict):
    """Monthly budgets by tenant and by app."""

    tenants: dict[str, Budget] = Field(default_factory=dict)
    apps: dict[str, Budget] = Field(default_factory=dict)


class CacheConfig(_Strict):
    """The exact-match response cache; each app opts in with `cache: true`."""

    ttl_s: int = Field(default=300, ge=1, le=7 * 24 * 3600)
