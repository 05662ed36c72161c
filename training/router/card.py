"""Render `router/models/model_card.md` and `docs/router.md` from `metrics.json`.

Every number in these files comes from the metrics `hybridgw router evaluate` wrote, so the
documents cannot drift from the measurements. Prose that does not depend on numbers (data,
licenses, known weaknesses) lives in `model_card_data.md`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from router.profiles import HEADS, PROFILES, difficulty_key

DATA_SECTION = Path(__file__).with_name("model_card_data.md")


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table ('—' when undefined)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def loso_headline(metrics: dict[str, Any]) -> str:
    """One row per head: pooled LOSO ROC-AUC / PR-AUC, the threshold, weakest family."""
    lines = [
        "| head | pooled LOSO ROC-AUC | PR-AUC | ECE | threshold | weakest family (ROC-AUC) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for head in HEADS:
        entry = metrics["loso"][head]
        pooled = entry["pooled"]
        fams = [(f, m["roc_auc"]) for f, m in entry["families"].items() if m["roc_auc"] is not None]
        weakest = min(fams, key=lambda x: x[1]) if fams else ("—", None)
        lines.append(
            f"| `{head}` | {fmt(pooled['roc_auc'])} | {fmt(pooled['pr_auc'])} | "
            f"{fmt(pooled['ece'])} | {fmt(metrics['thresholds'][head], 4)} | "
            f"{weakest[0]} ({fmt(weakest[1])}) |"
        )
    return "\n".join(lines)


def loso_table(metrics: dict[str, Any], head: str) -> str:
    """Per held-out family: rows, positive rate, ROC-AUC, mean score, flagged share."""
    lines = [
        "| held-out family | rows | positive rate | ROC-AUC | mean score | flagged at threshold |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fam, m in metrics["loso"][head]["families"].items():
        lines.append(
            f"| {fam} | {int(m['rows'])} | {fmt(m['positive_rate'])} | {fmt(m['roc_auc'])} | "
            f"{fmt(m['mean_score'])} | {fmt(m['flagged_rate'])} |"
        )
    return "\n".join(lines)


def routellm_table(metrics: dict[str, Any]) -> str:
    """APGR, CPT(50%), CPT(80%) of the router, random and oracle per evaluation."""
    lines = [
        "| evaluation | rows | weak acc. | strong acc. | APGR | random APGR | oracle APGR | "
        "CPT(50%) | CPT(80%) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "mmlu_leave_subject_out": (
            "MMLU, leave-subject-out (the recipe trained on Mixtral's labels; Mixtral vs GPT-4)"
        ),
        "gsm8k_7b-class": "GSM8K held out (7b-class head; RouterDC 7B vs always-right)",
        "gsm8k_smollm2-135m": "GSM8K held out (smollm2 head; measured vs always-right)",
    }
    for key, name in names.items():
        r = metrics["routellm"][key]
        lines.append(
            f"| {name} | {r['rows']} | {fmt(r['weak_accuracy'])} | {fmt(r['strong_accuracy'])} | "
            f"{fmt(r['router']['apgr'])} | {fmt(r['random']['apgr'])} | "
            f"{fmt(r['oracle']['apgr'])} | {fmt(r['router']['cpt50'], 2)} | "
            f"{fmt(r['router']['cpt80'], 2)} |"
        )
    return "\n".join(lines)


def pgr_table(metrics: dict[str, Any]) -> str:
    """The PGR curve at cloud shares 0, 0.1, ..., 1 for each evaluation."""
    header = "| evaluation | " + " | ".join(f"{c / 10:.1f}" for c in range(11)) + " |"
    lines = [header, "|---|" + "---:|" * 11]
    for key, r in metrics["routellm"].items():
        pgr = r["router"]["pgr"][::2]
        lines.append(f"| {key} | " + " | ".join(fmt(v, 2) for v in pgr) + " |")
    return "\n".join(lines)


def probe_table(metrics: dict[str, Any]) -> str:
    """Agreement per category for every profile."""
    profiles = list(PROFILES)
    lines = [
        "| category | prompts | " + " | ".join(f"agreement `{p}`" for p in profiles) + " |",
        "|---|---:|" + "---:|" * len(profiles),
    ]
    first = metrics["probes"][profiles[0]]
    for cat, count in first["counts"].items():
        cells = " | ".join(fmt(metrics["probes"][p]["by_category"][cat], 2) for p in profiles)
        lines.append(f"| {cat} | {count} | {cells} |")
    overall = " | ".join(f"**{fmt(metrics['probes'][p]['agreement'], 3)}**" for p in profiles)
    lines.append(f"| **all** | {sum(first['counts'].values())} | {overall} |")
    return "\n".join(lines)


def confusion(metrics: dict[str, Any]) -> str:
    """Wanted → got counts of the probe set per profile."""
    out = []
    for p in PROFILES:
        pairs = ", ".join(f"{k}: {v}" for k, v in metrics["probes"][p]["confusion"].items())
        out.append(f"- `{p}`: {pairs}")
    return "\n".join(out)


def in_dist_table(metrics: dict[str, Any], head: str) -> str:
    """Test-split metrics of one head per label source."""
    report = metrics["in_distribution"][head]
    lines = [
        "| label source | rows | positive rate | ROC-AUC | PR-AUC | ECE | flagged |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in [("**overall**", report["overall"]), *report["by_source"].items()]:
        lines.append(
            f"| {name} | {int(m['rows'])} | {fmt(m['positive_rate'])} | {fmt(m['roc_auc'])} | "
            f"{fmt(m['pr_auc'])} | {fmt(m['ece'])} | {fmt(m['flagged_rate'])} |"
        )
    return "\n".join(lines)


def latency_table(metrics: dict[str, Any]) -> str:
    """Decision latency per prompt size."""
    lines = [
        "| prompt | chars | p50 ms | p99 ms | mean ms | CPU p50 ms | CPU p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lat in metrics["latency"]:
        lines.append(
            f"| ~{lat['tokens']} tokens | {lat['chars']} | {lat['p50_ms']:.3f} | "
            f"{lat['p99_ms']:.3f} | {lat['mean_ms']:.3f} | {lat['cpu_p50_ms']:.3f} | "
            f"{lat['cpu_p99_ms']:.3f} |"
        )
    return "\n".join(lines)


def comparison_table(metrics: dict[str, Any]) -> str:
    """Candidates compared by leave-one-source-out quality and latency."""
    comp = metrics.get("comparison")
    if not comp:
        return "(no comparison recorded)"
    heads = [difficulty_key("7b-class"), difficulty_key("smollm2-135m"), "sensitivity"]
    lines = [
        "| candidate | " + " | ".join(f"LOSO `{h}`" for h in heads)
        + " | MeQSum held out | p50 / p99 ms (500 tok) | size | notes |",
        "|---|" + "---:|" * (len(heads) + 2) + "---:|---|",
    ]  # fmt: skip
    for c in comp["candidates"]:
        cells = " | ".join(fmt(c["loso"].get(h)) for h in heads)
        lat = c.get("latency_500")
        lat_cell = f"{fmt(lat[0], 2)} / {fmt(lat[1], 2)}" if lat else "—"
        lines.append(
            f"| {c['name']} | {cells} | {fmt(c.get('meqsum'))} | {lat_cell} | "
            f"{c.get('size', '—')} | {c.get('notes', '')} |"
        )
    notes = f"{comp.get('subset', '')}. Latency: {comp.get('latency_note', '')}."
    return "\n".join(lines) + f"\n\n{notes}\n\n{comp.get('conclusion', '')}"


def labels_section(metrics: dict[str, Any]) -> str:
    """The measured SmolLM2 labels: GSM8K and the everyday task kinds."""
    g = metrics["labels"]["gsm8k"]
    lines = [
        f"- GSM8K train: {g.get('items', 0)} items, {g.get('local_ok', 0)} correct "
        f"(accuracy {fmt(g.get('accuracy'))}).",
        "- Everyday gradable tasks (`training/router/gradable.py`, templated, auto-graded):",
        "",
        "| task kind | items | answered acceptably |",
        "|---|---:|---:|",
    ]
    for kind, v in metrics["labels"]["everyday"].items():
        lines.append(f"| {kind} | {v['items']} | {v['local_ok']} |")
    return "\n".join(lines)


def _cap(metrics: dict[str, Any]) -> str:
    cap = metrics.get("loso_cap")
    return f" (on a seeded sample of at most {cap} rows per family)" if cap else ""


def _probe_count(metrics: dict[str, Any]) -> int:
    return int(sum(metrics["probes"][next(iter(PROFILES))]["counts"].values()))


def model_card(metrics: dict[str, Any], command: str) -> str:
    """The whole model card."""
    restricted = "\n".join(
        f"- {k}: {fmt(v)}" for k, v in sorted(metrics["loso"]["restricted"].items())
    )
    data = DATA_SECTION.read_text(encoding="utf-8")
    return f"""# Model card: router prompt classifier `{metrics["model_version"]}`

`router/models/model.onnx` scores a prompt for the gateway's router:
`OnnxClassifier().score(text)` returns `difficulty@<profile>` for every local-model profile
(`router/profiles.py`: {", ".join(f"`{p}`" for p in PROFILES)}), `sensitivity`, and `difficulty`
(= the default profile's score). Representation: **{metrics["representation"]}**; dataset
`{metrics["dataset_version"]}`. Generated by `{command}`; every number below was measured on
this machine (2 vCPU shared with other jobs, no GPU).

## Headline: leave-one-source-out (LOSO)

Each source family is held out in turn: the heads are retrained on the other families
(same recipe and C as the shipped model) and score the held-out one{_cap(metrics)}.
The pooled numbers below are over all held-out scores. Thresholds are cost-based on the
calibrated probabilities (difficulty 0.5; sensitivity 1/3: a sensitive prompt sent to the
cloud costs twice a needless local route), never fitted to the probes.

{loso_headline(metrics)}

Pooled LOSO ROC-AUC on measured labels only:

{restricted}

## RouteLLM metrics (held out)

{routellm_table(metrics)}

APGR = average performance gap recovered over cloud shares 0..1 (random ≈ 0.5); CPT(x) =
the cloud share needed to recover x of the gap. Full curves and per-family tables:
`docs/router.md`.

## Probe set: {_probe_count(metrics)} hand-written enterprise prompts

`training/router/probes.jsonl` (never trained on): the route a careful admin would want per
profile (local / cloud / local-sensitive) against the classifier's route at the shipped
thresholds (classifier alone, without the PII recognizers).

{probe_table(metrics)}

## Latency

`OnnxClassifier.score()` wall time, 1 intra-op thread (`bench/bench_classifier.py`):

{latency_table(metrics)}

## Candidates compared

{comparison_table(metrics)}

## Measured SmolLM2-135M labels

{labels_section(metrics)}

{data}
"""


def router_doc(metrics: dict[str, Any], command: str) -> str:
    """docs/router.md: the full evaluation."""
    sections = []
    for head in HEADS:
        sections.append(f"### `{head}`\n\n{loso_table(metrics, head)}")
    in_dist = "\n\n".join(f"### `{h}`\n\n{in_dist_table(metrics, h)}" for h in HEADS)
    return f"""# Router classifier: evaluation

Regenerated by `{command}` for `router/models/model.onnx` (version
`{metrics["model_version"]}`, representation {metrics["representation"]}, dataset
`{metrics["dataset_version"]}`). Summary, data and licenses: `router/models/model_card.md`.

## Leave-one-source-out (headline)

{loso_headline(metrics)}

{(chr(10) * 2).join(sections)}

## RouteLLM metrics

{routellm_table(metrics)}

PGR at cloud share 0.0, 0.1, ..., 1.0:

{pgr_table(metrics)}

## Probe set agreement

{probe_table(metrics)}

Wanted → got:

{confusion(metrics)}

## In-distribution test split (flattering: same sources as training)

{in_dist}

## Latency

{latency_table(metrics)}
"""
