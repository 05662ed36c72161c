"""PII detection: recall/precision per entity type and scan latency on 500-token prompts.

Run: `.venv/bin/python bench/bench_pii.py [--presidio-every 3] [--no-presidio] [--no-write]`
Prints Markdown tables and appends them to docs/benchmarks.md with the date, machine and command.

Accuracy sets: presidio-research's `generated_large.json` (shared/data/sensitivity/presidio) and
our synthetic set with look-alike decoys (tests/data/pii/synthetic.jsonl). Latency prompts of
~500 tokens (~2,000 characters): *dense* = presidio sentences back to back (~40 entities per
prompt, the worst case), *typical* = Dolly open-QA text with three PII items in it.

Latency is reported three ways: wall-clock p50/p99 over every call as it happened on this
(shared) machine; "best of N" per prompt — the p50/p99 over prompts of each prompt's fastest
run, which removes most interference from other processes; and the thread's CPU time per call.
Presidio's analyzer (with the same spaCy model) runs on every
`--presidio-every`-th text of the accuracy sets and on the same latency prompts, if installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import append_section, load_average, machine  # noqa: E402
from kernel.types import ChatRequest, Message  # noqa: E402
from policies.pii import Finding, PiiScanner  # noqa: E402
from policies.pii.ner import DEFAULT_MODEL_TYPES  # noqa: E402
from policies.pii.ner_spacy import DEFAULT_MODEL, SpacyNer  # noqa: E402
from policies.pii.ner_tagger import NameTagger  # noqa: E402
from training.pii.eval import Sample, load_jsonl, load_presidio, presidio_samples, score, table  # noqa: E402
from training.pii.tagger_data import presidio_split  # noqa: E402

# The shared data beside the checkout (/work/main -> /work/shared), or two levels up from a
# worktree (/work/wt/x -> /work/shared).
SHARED = next(
    (p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if (p / "data").is_dir()),
    ROOT.parent / "shared",
)
PRESIDIO_DATA = SHARED / "data" / "sensitivity" / "presidio" / "generated_large.json"
DOLLY = SHARED / "data" / "difficulty" / "dolly_open_qa" / "open_qa.jsonl"
SYNTHETIC = ROOT / "tests" / "data" / "pii" / "synthetic.jsonl"
PROMPT_CHARS = 2000  # ~500 tokens at ~4 characters per token
# Gold types that neither we nor a policy act on (not personal data, or not detectable).
UNSCORED = {"ORGANIZATION", "TITLE", "PREFIX", "DOMAIN_NAME", "DATE_TIME"}

# Presidio is asked only for what we detect too (it would also tag every date and organisation).
PRESIDIO_ENTITIES = [
    *("PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE"),
    *("US_SSN", "US_ITIN", "UK_NHS", "IP_ADDRESS", "IN_AADHAAR", "IN_PAN", "ES_NIF"),
    *("IT_FISCAL_CODE", "PL_PESEL"),
]
Detector = Callable[[str], list[Finding]]


def presidio_held_out() -> list[Sample]:
    """Presidio texts of the templates the name tagger never trained on (its test split)."""
    return presidio_samples(presidio_split(PRESIDIO_DATA)["test"])


def dense_prompts(samples: Sequence[Sample]) -> list[str]:
    prompts, cur = [], ""
    for s in samples:
        cur += s.text + "\n"
        if len(cur) >= PROMPT_CHARS:
            prompts.append(cur)
            cur = ""
    return prompts


def typical_prompts(n: int) -> list[str]:
    rng = random.Random(5)
    lines = [json.loads(x)["text"] for x in DOLLY.read_text("utf-8").splitlines()[: 40 * n]]
    pii = [
        "Mail me at dana.reyes@example.com.",
        "My number is +44 20 7946 0958.",
        "Dear Dana Reyes,",
    ]
    prompts, cur = [], ""
    for line in lines:
        cur += line.replace("### Human:", "").replace("### Assistant:", "\n") + "\n"
        if len(cur) >= PROMPT_CHARS - 80:
            parts = cur.split("\n")
            for item in pii:
                parts.insert(rng.randrange(len(parts) + 1), item)
            prompts.append("\n".join(parts))
            cur = ""
        if len(prompts) == n:
            break
    return prompts


def latency(fn: Callable[[str], object], prompts: Sequence[str], repeats: int = 5) -> str:
    """Milliseconds: wall p50 / p99 over all calls | wall p50 / p99 of each prompt's best run |
    thread CPU time p50 / p99 over all calls."""
    for p in prompts[:3]:
        fn(p)  # warm-up
    every: list[float] = []
    best: list[float] = []
    cpu: list[float] = []
    for p in prompts:
        runs = []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.thread_time()
            fn(p)
            cpu.append((time.thread_time() - c) * 1000)
            runs.append((time.perf_counter() - t) * 1000)
        every.extend(runs)
        best.append(min(runs))

    def q(xs: list[float], f: float) -> str:
        xs = sorted(xs)
        return f"{xs[min(len(xs) - 1, int(f * len(xs)))]:.2f}"

    return " | ".join(f"{q(xs, 0.5)} / {q(xs, 0.99)}" for xs in (every, best, cpu))


def presidio_detector() -> Detector | None:
    """Presidio's AnalyzerEngine with our spaCy model, fully offline; None if not installed."""
    try:
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers.generic import email_recognizer
    except ImportError:
        return None
    if not SpacyNer.available():
        return None
    # No public-suffix-list download; no en_core_web_lg download.
    offline = tldextract.TLDExtract(suffix_list_urls=())
    email_recognizer.tldextract = SimpleNamespace(extract=offline)  # type: ignore[attr-defined]
    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": DEFAULT_MODEL}],
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())

    def detect(text: str) -> list[Finding]:
        return [
            Finding(r.entity_type, r.start, r.end, r.score)
            for r in engine.analyze(text, language="en", entities=PRESIDIO_ENTITIES)
            if r.score >= 0.5 and r.end > r.start
        ]

    return detect


def accuracy_section(name: str, samples: Sequence[Sample], detectors: dict[str, Detector]) -> str:
    gold_types = {g.entity_type for s in samples for g in s.spans} - UNSCORED
    out = []
    for label, detect in detectors.items():
        report = score(samples, detect, gold_types=gold_types)
        out.append(table(report, f"{name} — {label} ({len(samples)} texts)"))
    return "\n\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presidio-every", type=int, default=3)
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--latency-only", action="store_true", help="Skip the accuracy tables.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()

    fast = PiiScanner(use_model=False)
    tagger = PiiScanner(engine="tagger")
    tagger.load()
    spacy = PiiScanner(engine="spacy")
    spacy_ok = spacy.load()
    presidio = None if args.no_presidio else presidio_detector()
    # The tagger trained on 70% of Presidio's templates: score everyone on the held-out 30%.
    held_out = presidio_held_out()
    synthetic = load_jsonl(SYNTHETIC)

    ours: dict[str, Detector] = {
        "fast scan (patterns)": fast.scan,
        "fast + name tagger": lambda t: tagger.scan_text(t, include_model=True),
    }
    if spacy_ok:
        ours["fast + spaCy NER"] = lambda t: spacy.scan_text(t, include_model=True)
    sections = []
    if not args.latency_only:
        sections.append(accuracy_section("presidio, held-out templates", held_out, ours))
        sections.append(accuracy_section("synthetic + decoys", synthetic, ours))
    if presidio is not None and not args.latency_only:
        k = args.presidio_every
        both = {**ours, "Presidio AnalyzerEngine": presidio}
        sections.append(accuracy_section(f"held-out presidio, every {k}th", held_out[::k], both))
        sections.append(accuracy_section(f"synthetic, every {k}th text", synthetic[::k], both))

    dense = dense_prompts(load_presidio(PRESIDIO_DATA))[:60]
    typical = typical_prompts(40)
    short = [p[:200].rsplit(" ", 1)[0] for p in typical]  # ~50 tokens: one chat turn
    rows = [
        "| ~500-token prompt | scanner | wall p50 / p99 ms | best-of-N p50 / p99 ms "
        "| CPU p50 / p99 ms |",
        "|---|---|---:|---:|---:|",
        f"| typical ({len(typical)}) | fast scan | {latency(fast.scan, typical)} |",
        f"| dense ({len(dense)}) | fast scan | {latency(fast.scan, dense)} |",
    ]
    requests = [ChatRequest(model="m", messages=[Message(role="user", content=p)]) for p in typical]
    by_prompt = dict(zip(typical, requests, strict=True))
    rows.append(
        f"| typical | whole request, fast + tagger (`scan_request`) | "
        f"{latency(lambda p: tagger.scan_request(by_prompt[p], include_model=True), typical)} |"
    )
    models: dict[str, Detector] = {"name tagger": NameTagger(entities=DEFAULT_MODEL_TYPES).find}
    if spacy_ok:
        models["spaCy NER"] = SpacyNer(cache_size=0).find  # measure the model, not its cache
    for name, find in models.items():
        rows.append(f"| typical | {name} | {latency(find, typical[:20], 3)} |")
        rows.append(f"| dense | {name} | {latency(find, dense[:20], 3)} |")
        rows.append(f"| ~50-token turn | {name} | {latency(find, short, 3)} |")
    if presidio is not None:
        rows.append(f"| typical | Presidio analyze | {latency(presidio, typical[:10], 2)} |")
        rows.append(f"| dense | Presidio analyze | {latency(presidio, dense[:10], 2)} |")
    sections.append("**Scan latency**\n\n" + "\n".join(rows))

    command = " ".join([".venv/bin/python", "bench/bench_pii.py", *sys.argv[1:]])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n\n".join(sections)
    where = f"Machine: {machine()}, load {load_average()}  \nCommand: `{command}`"
    section = f"## PII detection ({now})\n\n{where}\n\n{body}\n"
    print(section)
    if not args.no_write:
        append_section(section)


if __name__ == "__main__":
    main()
