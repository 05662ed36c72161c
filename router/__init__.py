"""Routing domain: types, protocols, errors, the pure `decide()` and the prompt classifier.

This package imports nothing else of ours; heavy libraries (onnxruntime) load lazily.
"""

from router.decision import AUTO_MODEL, Features, RouteDecision, Target, decide
from router.policy import RoutingPolicy

__all__ = ["AUTO_MODEL", "Features", "RouteDecision", "RoutingPolicy", "Target", "decide"]
