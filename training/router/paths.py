"""Where the router's training data lives, relative to the repository root (the CLI's cwd).

`DATASET_VERSION` names the dataset the shipped model is trained on; bump it whenever the
dataset's content changes (new labels, new sources), so a model card always names one version.
"""

from __future__ import annotations

from pathlib import Path

DATASET_VERSION = "v3"
TRAINING_DATA = Path("training/router/data")
DATASET_DIR = TRAINING_DATA / DATASET_VERSION
GSM8K_LABELS = TRAINING_DATA / "gsm8k_smollm2_labels.jsonl"
GSM8K_LABELS_COMMITTED = TRAINING_DATA / "gsm8k_smollm2_labels.jsonl.gz"
EVERYDAY_LABELS = TRAINING_DATA / "everyday_smollm2_labels.jsonl"
PROBES = Path("training/router/probes.jsonl")
EVERYDAY_LABELS_COMMITTED = TRAINING_DATA / "everyday_smollm2_labels.jsonl.gz"
