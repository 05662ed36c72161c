"""Optional OpenTelemetry spans around the pipeline stages.

Free by default: unless a tracer provider is installed (e.g. by running the gateway under
`opentelemetry-instrument` with `opentelemetry-distro` and an exporter installed), `traced`
functions run without creating any span. Spans carry stage names only, never prompt text.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _tracer() -> object | None:
    """The global tracer if a real provider is configured by the first request, else None."""
    try:
        from opentelemetry import trace
    except ImportError:  # the API is optional
        return None
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return None
    return trace.get_tracer("hybridgw")


def enabled() -> bool:
    """Whether spans are being recorded (a real tracer provider is configured)."""
    return _tracer() is not None


def traced(name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run the decorated coroutine function inside a span called `name` (when tracing is on)."""

    def wrap(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            tracer = _tracer()
            if tracer is None:
                return await fn(*args, **kwargs)
            with tracer.start_as_current_span(name):  # type: ignore[attr-defined]
                return await fn(*args, **kwargs)

        return inner

    return wrap
