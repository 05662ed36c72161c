"""The policy's `embeddings` section: which embedding model serves /v1/embeddings.

Aliases here are their own namespace (a chat alias cannot be reused). The privacy rule is fixed,
not configurable away: text the classifier scores `sensitive_at` or above, or that holds any PII
type the policy lists, is never embedded by a cloud alias (redaction would change the vector).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.types import Tier
from router.policy import PolicyValueError


class EmbeddingModel(BaseModel):
    """An embedding model alias: the shipped in-process encoder, or a cloud one via litellm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Tier
    backend: Literal["onnx", "litellm"] = Field(
        description="onnx: the in-process encoder (local); litellm: a cloud embedding model."
    )
    model: str = Field(
        default="all-minilm-l6-v2",
        min_length=1,
        description="onnx: all-minilm-l6-v2 (the shipped encoder); litellm: its model string.",
    )
    path: str | None = Field(default=None, description="onnx: another all-MiniLM-L6-v2 ONNX file.")
    threads: int = Field(default=1, ge=1, description="onnx: onnxruntime intra-op threads.")
    api_base: str | None = None
    api_key_env: str | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    dimensions: list[int] | None = Field(
        default=None,
        min_length=1,
        description="litellm: the `dimensions` values the model can shorten to (unset: none).",
    )
    input_cost_per_token: float | None = Field(
        default=None, ge=0, description="USD; default: litellm.model_cost (cloud), 0 (local)."
    )

    @model_validator(mode="after")
    def _backend_fits(self) -> Self:
        wanted = {"onnx": "local", "litellm": "cloud"}[self.backend]
        if self.tier != wanted:
            raise ValueError(f"backend '{self.backend}' serves the {wanted} tier, not {self.tier}")
        if self.backend == "onnx" and self.model != "all-minilm-l6-v2":
            raise ValueError("the onnx backend serves all-minilm-l6-v2 only")
        if self.backend == "onnx" and (self.dimensions or self.api_base or self.api_key_env):
            raise ValueError("dimensions, api_base and api_key_env are for the litellm backend")
        return self


def _default_embedding_models() -> dict[str, EmbeddingModel]:
    return {"minilm": EmbeddingModel(tier="local", backend="onnx")}


class EmbeddingsConfig(BaseModel):
    """Routing of /v1/embeddings. Text classified sensitive (score >= `sensitive_at`), or holding
    any PII type of `pii.entities`, never reaches a cloud embedding model: redacting it would
    change the vector's meaning. It is embedded by `local_target`, or refused (403).
    Over the soft budget, cloud aliases are skipped the same way (429 without `local_target`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str = Field(default="minilm", description="Alias used for model 'auto'.")
    models: dict[str, EmbeddingModel] = Field(
        default_factory=_default_embedding_models, min_length=1
    )
    sensitive_at: float = Field(default=0.5, ge=0, le=1)
    local_target: str | None = Field(
        default=None,
        description="Local alias for what may not go to a cloud alias: sensitive text, or any "
        "text while over the soft budget. Its vectors are in another space: mix them into one "
        "index knowingly. Unset: refuse (403 sensitive, 429 over budget).",
    )
    reference_model: str | None = Field(
        default=None, description="Cloud alias whose price is the counterfactual cost."
    )

    @model_validator(mode="after")
    def _check_aliases(self) -> Self:
        if self.default not in self.models:
            raise PolicyValueError(
                ("default",), f"unknown embedding alias '{self.default}' (known: {self._known()})"
            )
        for key, tier in (("local_target", "local"), ("reference_model", "cloud")):
            alias = getattr(self, key)
            if alias is None:
                continue
            spec = self.models.get(alias)
            if spec is None:
                raise PolicyValueError(
                    (key,), f"unknown embedding alias '{alias}' (known: {self._known()})"
                )
            if spec.tier != tier:
                raise PolicyValueError((key,), f"{key} '{alias}' must be a {tier} alias")
        return self

    def _known(self) -> str:
        return ", ".join(sorted(self.models))
