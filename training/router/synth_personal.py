"""Synthesised personal vs impersonal prompt pairs (health, HR, legal, finance) + hard negatives.

Like MeQSum's question/summary pairs: each *personal* prompt (1) tells the assistant about a
particular person's situation — the writer's own, a relative's, an employee's — and its
*impersonal* partner (0) asks about the same topic in general, in the same group (so a pair
never straddles splits). Hard negatives (0) are first-person prompts with no sensitive matter
(work chores, code, travel) and topic-only requests (a leaflet about diabetes, an HR policy).
All values come from Faker (seeded) and fixed lists; no real person is in the output.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from faker import Faker

from training.router.records import Row

CONDITIONS = ["type 2 diabetes", "hypertension", "depression", "an anxiety disorder",
              "asthma", "hypothyroidism", "a herniated disc", "migraines", "psoriasis",
              "atrial fibrillation", "endometriosis", "sleep apnea", "celiac disease"]  # fmt: skip
DRUGS = ["metformin", "sertraline", "lisinopril", "levothyroxine", "ibuprofen", "prednisone",
         "atorvastatin", "amoxicillin", "escitalopram", "omeprazole", "gabapentin"]  # fmt: skip
SYMPTOMS = ["chest tightness", "dizziness", "night sweats", "a rash on my arms",
            "constant fatigue", "blurred vision", "numbness in my hand", "heart palpitations",
            "a persistent cough", "stomach cramps"]  # fmt: skip
RELATIVES = ["my wife", "my husband", "my mother", "my father", "my son", "my daughter",
             "my partner", "my grandmother"]  # fmt: skip
HR_TOPICS = ["a performance improvement plan", "a written warning", "a pay rise",
             "parental leave", "a disability accommodation", "a harassment complaint",
             "being made redundant", "a disciplinary hearing", "sick leave"]  # fmt: skip
LEGAL_TOPICS = ["a security deposit dispute", "a DUI charge", "child custody",
                "a non-compete clause", "an unpaid invoice lawsuit", "a divorce settlement",
                "a wrongful dismissal claim", "a car accident claim",
                "an eviction notice"]  # fmt: skip
FINANCE_TOPICS = ["credit card debt", "a missed mortgage payment", "personal bankruptcy",
                  "a tax audit", "an inheritance", "a loan application rejection",
                  "a double charge on a bank account", "retirement savings"]  # fmt: skip
FRAMES = [("", ""), ("Quick question: ", ""), ("For a training deck: ", " Use bullet points."),
          ("In general, ", ""), ("Out of curiosity, ", " Keep it brief."),
          ("For our intranet page: ", ""), ("", " Answer in two sentences."),
          ("I'm researching this for work. ", ""), ("", " Please be concise.")]  # fmt: skip
ASKS = ["What should I do?", "Can you help me write an email about this?", "Is this normal?",
        "What are my options?", "Please advise.", "How worried should I be?", ""]  # fmt: skip


def _health(fake: Faker, rng: random.Random) -> tuple[str, str]:
    cond, drug, symptom = rng.choice(CONDITIONS), rng.choice(DRUGS), rng.choice(SYMPTOMS)
    age, rel = rng.randint(19, 84), rng.choice(RELATIVES)
    personal = rng.choice([
        f"I'm {age} and was diagnosed with {cond} last month. My doctor put me on {drug}.",
        f"{rel.capitalize()} has {cond} and since starting {drug} has had {symptom}.",
        f"I've had {symptom} for {rng.randint(2, 9)} weeks now and I already have {cond}.",
        f"My blood test came back and my GP says it looks like {cond}. I'm {age}.",
        f"I take {drug} every day for {cond} and I'm pregnant, is it safe for my baby?",
        f"Since my surgery in {fake.month_name()} I keep getting {symptom}.",
    ])  # fmt: skip
    impersonal = rng.choice([
        f"What is {cond} and how is it usually treated?",
        f"What are the common side effects of {drug}?",
        f"Can {drug} cause {symptom}?",
        f"What are the early signs of {cond}?",
        f"Is {drug} considered safe during pregnancy?",
    ])  # fmt: skip
    return personal, impersonal


def _hr(fake: Faker, rng: random.Random) -> tuple[str, str]:
    topic, name = rng.choice(HR_TOPICS), fake.first_name()
    salary = rng.randint(38, 160) * 1000
    personal = rng.choice([
        f"My manager just told me I'm getting {topic}. I've been here {rng.randint(1, 15)} years.",
        f"{name} on my team has been off sick a lot because of her divorce; I have to write "
        f"her review and mention {topic}.",
        f"I earn ${salary:,} and found out a colleague doing the same job earns more. "
        f"I want to ask about {topic}.",
        f"Draft a letter to {name} {fake.last_name()} confirming {topic} after the meeting "
        f"on {fake.day_of_week()}.",
        f"I told HR about my ADHD diagnosis and now I'm worried it affects {topic}.",
    ])  # fmt: skip
    impersonal = rng.choice([
        f"What should a company policy on {topic} include?",
        f"How do employers usually handle {topic}?",
        f"Explain the typical steps of {topic} in a mid-sized company.",
        f"What are best practices for managers dealing with {topic}?",
    ])  # fmt: skip
    return personal, impersonal


def _legal(fake: Faker, rng: random.Random) -> tuple[str, str]:
    topic, amount = rng.choice(LEGAL_TOPICS), rng.randint(3, 90) * 100
    personal = rng.choice([
        f"I'm dealing with {topic}: my landlord kept ${amount} and won't reply to me.",
        f"I was charged last week and my lawyer says it's {topic}. Can I lose my licence?",
        f"My ex and I are in the middle of {topic}; she wants the house on "
        f"{fake.street_name()}.",
        f"I signed an agreement with {fake.company()} two years ago and now face {topic}.",
        f"My brother was served papers about {topic} yesterday and is panicking.",
    ])  # fmt: skip
    impersonal = rng.choice([
        f"How does {topic} usually work in the US?",
        f"What is the legal process for {topic}?",
        f"Summarise the key legal issues in {topic}.",
        f"What documents are typically needed for {topic}?",
    ])  # fmt: skip
    return personal, impersonal


def _finance(fake: Faker, rng: random.Random) -> tuple[str, str]:
    topic, amount = rng.choice(FINANCE_TOPICS), rng.randint(2, 95) * 1000
    personal = rng.choice([
        f"I have ${amount:,} of {topic} and I only take home ${rng.randint(18, 60) * 100} "
        f"a month.",
        f"My husband and I are facing {topic} and we have two kids.",
        f"I'm {rng.randint(25, 70)} with ${amount:,} saved and I'm worried about {topic}.",
        f"My credit score fell to {rng.randint(480, 640)} after {topic}.",
        f"My mother left me ${amount:,} and I also have {topic} to sort out.",
    ])  # fmt: skip
    impersonal = rng.choice([
        f"How does {topic} affect a credit score?",
        f"What are the usual ways people deal with {topic}?",
        f"Explain {topic} in simple terms.",
        f"What should a bank's FAQ page say about {topic}?",
    ])  # fmt: skip
    return personal, impersonal


HARD_NEGATIVES = [
    "I need to email my team that the {day} stand-up moves to 10am. Keep it short.",
    "My Python script raises KeyError when the config file is empty. How do I fix it?",
    "I'm planning a weekend in {city}; what should I see?",
    "I'm writing a leaflet about {cond} for our clinic's waiting room. Suggest headings.",
    "I have to present our Q3 sales numbers on {day}. Give me a slide outline.",
    "Write an HR policy paragraph on {hr} for our employee handbook.",
    "I'm preparing a training session for managers on {hr}.",
    "My laptop fan is loud after the update. Any ideas?",
    "I want to learn SQL joins; explain LEFT JOIN with an example.",
    "I'm organising a team lunch for 12 people in {city}. Suggest a plan.",
    "Explain {legal} to first-year law students in three bullet points.",
    "I'd like a blog post on budgeting tips for students.",
    "My sourdough keeps coming out flat, what am I doing wrong?",
    "We're drafting an FAQ about {fin} for our bank's website.",
    "I keep forgetting my gym schedule; make me a weekly plan for {day}s.",
    "My team in {city} wants a checklist for onboarding new hires.",
    "I'm comparing two CRM tools for our sales team. What questions should I ask vendors?",
    "I got a new espresso machine; how do I descale it?",
    "My daughter's school project is about volcanoes. Suggest five fun facts.",
    "I'd like to rewrite our product description to sound friendlier.",
    "I manage a small warehouse; how can I organise inventory counts?",
    "I need a polite reminder to a supplier about the overdue shipment of chairs.",
    "I run a bakery in {city}. Draft an Instagram caption for our new croissant.",
    "Summarise the plot of Pride and Prejudice for me.",
]


def personal_rows(per_domain: int = 300, seed: int = 11) -> Iterator[Row]:
    """`per_domain` personal/impersonal pairs per domain, then the hard negatives."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    for domain, make in (("health", _health), ("hr", _hr), ("legal", _legal),
                         ("finance", _finance)):  # fmt: skip
        for i in range(per_domain):
            personal, impersonal = make(fake, rng)
            ask = rng.choice(ASKS)
            group = f"synth_personal:{domain}:{i}"
            yield _row(f"{personal} {ask}".strip(), "synth_personal", group, domain, i, 1.0)
            before, after = rng.choice(FRAMES)
            neutral = f"{before}{impersonal[0].lower() if before else impersonal[0]}"
            neutral = f"{neutral}{impersonal[1:]}{after}"
            yield _row(neutral, "synth_personal", group, domain, i, 0.0)
    for i in range(2 * per_domain):
        text = rng.choice(HARD_NEGATIVES).format(
            day=fake.day_of_week(), city=fake.city(), cond=rng.choice(CONDITIONS),
            hr=rng.choice(HR_TOPICS), legal=rng.choice(LEGAL_TOPICS),
            fin=rng.choice(FINANCE_TOPICS),
        )  # fmt: skip
        before, after = rng.choice(FRAMES)
        text = f"{before}{text}{after}"
        yield _row(text, "synth_hardneg", f"synth_hardneg:{i}", "hardneg", i, 0.0)


def _row(text: str, source: str, group: str, kind: str, i: int, label: float) -> Row:
    side = "personal" if label else "impersonal"
    return Row(
        text=text,
        source=source,
        group=group,
        provenance=f"training/router/synth_personal.py {kind} #{i} {side}",
        license="generated (Apache-2.0, this project)",
        sensitivity=label,
        sensitivity_source=source,
    )
