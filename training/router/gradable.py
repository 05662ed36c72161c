"""Everyday tasks with a gold answer that a program can check: measured labels for any local model.

Ten task kinds a small assistant is asked all day (short arithmetic, one-step word problems,
capitals, sentiment, extracting an e-mail address or an order number, upper-casing, one-word
translation, counting list items, comparing numbers). Each item is generated from a seeded
template with its gold answer; `grade()` decides from the model's completion whether the answer
is acceptable. These are the "shipped gradable sets" `hybridgw router calibrate` runs the
deployed local model on, together with a GSM8K sample (gold number).

The templates are deliberately different in wording from every training source, and the
kinds are fixed: a label run on them measures *this* model on *these* task types only.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
    "Japan": "Tokyo", "Canada": "Ottawa", "Egypt": "Cairo", "Kenya": "Nairobi",
    "Peru": "Lima", "Norway": "Oslo", "Sweden": "Stockholm", "Poland": "Warsaw",
    "Greece": "Athens", "Portugal": "Lisbon", "Austria": "Vienna", "Ireland": "Dublin",
    "Russia": "Moscow", "China": "Beijing", "India": "New Delhi", "Mexico": "Mexico City",
    "Argentina": "Buenos Aires", "Chile": "Santiago", "Thailand": "Bangkok",
    "Vietnam": "Hanoi", "Finland": "Helsinki", "Denmark": "Copenhagen", "Hungary": "Budapest",
    "Cuba": "Havana", "Turkey": "Ankara", "Australia": "Canberra",
}  # fmt: skip
TRANSLATIONS = {
    ("thank you", "French"): ("merci",), ("thank you", "German"): ("danke",),
    ("thank you", "Spanish"): ("gracias",), ("cat", "French"): ("chat",),
    ("cat", "German"): ("katze",), ("cat", "Spanish"): ("gato",),
    ("water", "French"): ("eau",), ("water", "German"): ("wasser",),
    ("water", "Spanish"): ("agua",), ("house", "German"): ("haus",),
    ("house", "Spanish"): ("casa",), ("house", "French"): ("maison",),
    ("good morning", "Spanish"): ("buenos",), ("good morning", "French"): ("bonjour",),
    ("good morning", "German"): ("guten morgen",), ("book", "French"): ("livre",),
    ("book", "Spanish"): ("libro",), ("book", "German"): ("buch",),
}  # fmt: skip
POSITIVE = [
    "The delivery came early and the staff were lovely.",
    "Absolutely loved this blender, it works perfectly.",
    "Great value, I would happily buy it again.",
    "The hotel room was spotless and the view was wonderful.",
    "Fantastic support team, they fixed my problem in minutes.",
]
NEGATIVE = [
    "The package arrived broken and nobody answered my emails.",
    "Terrible battery life, it died after two hours.",
    "The food was cold and the waiter was rude.",
    "Waste of money, it stopped working after a week.",
    "The app crashes every time I open it, very disappointing.",
]
ITEMS = ["apples", "pens", "chairs", "tickets", "boxes", "cups", "books", "lamps"]
NAMES = ["Priya", "Tom", "Ana", "Kenji", "Lena", "Omar", "Sara", "Luca"]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Task:
    """One prompt with the answers that count as acceptable (lower-case unless verbatim)."""

    kind: str
    prompt: str
    gold: tuple[str, ...]
    grading: str  # "number" | "contains" | "choice" | "verbatim" (case-sensitive contains)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def _last_number(text: str) -> str | None:
    numbers = _NUMBER.findall(text.replace(",", ""))
    return numbers[-1].removesuffix(".0") if numbers else None


def grade(task: Task, completion: str) -> bool:
    """Whether `completion` answers `task` acceptably."""
    if task.grading == "verbatim":
        return any(g in completion for g in task.gold)
    text = completion.strip().lower()
    if task.grading == "number":
        return _last_number(text) in task.gold
    if task.grading == "choice":  # the gold word and none of the alternatives, as whole words
        gold, *others = task.gold
        return _has_word(text, gold) and not any(_has_word(text, o) for o in others)
    return any(g in text for g in task.gold)


def _arithmetic(rng: random.Random) -> Task:
    a, b = rng.randint(11, 99), rng.randint(11, 99)
    if rng.random() < 0.5:
        return Task("arithmetic", f"What is {a} + {b}? Reply with the number only.",
                    (str(a + b),), "number")  # fmt: skip
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    return Task("arithmetic", f"Compute {a} times {b}.", (str(a * b),), "number")


def _word_problem(rng: random.Random) -> Task:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    price, count = rng.randint(2, 9), rng.randint(3, 9)
    prompt = (
        f"{name} buys {count} {item} at {price} dollars each. How many dollars does "
        f"{name} pay in total? Give just the number."
    )
    return Task("word_problem", prompt, (str(price * count),), "number")


def _capital(rng: random.Random) -> Task:
    country = rng.choice(sorted(CAPITALS))
    return Task("capital", f"What is the capital of {country}?",
                (CAPITALS[country].lower(),), "contains")  # fmt: skip


def _sentiment(rng: random.Random) -> Task:
    positive = rng.random() < 0.5
    review = rng.choice(POSITIVE if positive else NEGATIVE)
    gold = ("positive", "negative") if positive else ("negative", "positive")
    prompt = f"Is this customer review positive or negative? Answer in one word.\n\n{review}"
    return Task("sentiment", prompt, gold, "choice")


def _extract_email(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    email = (
        f"{name.lower()}.{rng.choice(['ops', 'sales', 'it'])}@{rng.choice(['acme', 'globex'])}.com"
    )
    prompt = (
        f"Find the e-mail address in this note and reply with it only.\n\n"
        f"Hi team, questions about the rota go to {name}, reachable at {email}, until Friday."
    )
    return Task("extract_email", prompt, (email,), "contains")


def _extract_order(rng: random.Random) -> Task:
    order = str(rng.randint(100000, 999999))
    prompt = (
        f"What is the order number in this message? Reply with the number.\n\n"
        f"Hello, my parcel for order {order} has not arrived yet, it was due on the 3rd."
    )
    return Task("extract_order", prompt, (order,), "number")


def _uppercase(rng: random.Random) -> Task:
    words = " ".join(rng.sample(["blue", "river", "quiet", "lamp", "north", "green", "stone"], 3))
    prompt = f"Rewrite this in capital letters: {words}"
    return Task("uppercase", prompt, (words.upper(),), "verbatim")


def _translate(rng: random.Random) -> Task:
    (word, language), gold = rng.choice(sorted(TRANSLATIONS.items()))
    return Task("translate_word", f'How do you say "{word}" in {language}?', gold, "contains")


def _count(rng: random.Random) -> Task:
    items = rng.sample(["milk", "eggs", "bread", "rice", "tea", "salt", "oil", "jam"],
                       rng.randint(3, 6))  # fmt: skip
    prompt = f"How many items are on this shopping list: {', '.join(items)}? Answer with a number."
    return Task("count_items", prompt, (str(len(items)),), "number")


def _compare(rng: random.Random) -> Task:
    a, b = rng.sample(range(10, 100), 2)
    gold = ("yes", "no") if a > b else ("no", "yes")
    return Task("compare", f"Is {a} larger than {b}? Answer yes or no.", gold, "choice")


GENERATORS: dict[str, Callable[[random.Random], Task]] = {
    "arithmetic": _arithmetic,
    "word_problem": _word_problem,
    "capital": _capital,
    "sentiment": _sentiment,
    "extract_email": _extract_email,
    "extract_order": _extract_order,
    "uppercase": _uppercase,
    "translate_word": _translate,
    "count_items": _count,
    "compare": _compare,
}


def tasks(per_kind: int, seed: int = 20261201) -> list[Task]:
    """`per_kind` distinct items of every kind, interleaved (any prefix covers every kind)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Task]] = {}
    for kind, make in GENERATORS.items():
        seen: dict[str, Task] = {}
        for _ in range(per_kind * 20):
            if len(seen) == per_kind:
                break
            task = make(rng)
            seen.setdefault(task.prompt, task)
        by_kind[kind] = list(seen.values())
    rows = itertools.zip_longest(*by_kind.values())
    return [t for row in rows for t in row if t is not None]
