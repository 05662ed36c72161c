"""Routing domain: conditions, the pure `decide()` and the prompt classifier.

It imports only `kernel` of ours; heavy libraries (onnxruntime) load lazily.
"""

from router.decision import AUTO_MODEL, Features, RouteDecision, Target, decide
from router.policy import RoutingPolicy

__all__ = ["AUTO_MODEL", "Features", "RouteDecision", "RoutingPolicy", "Target", "decide"]
