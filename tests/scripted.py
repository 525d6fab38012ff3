"""Scripted DummyLM answers for whole runs, in the order the runner asks for them."""

from __future__ import annotations

from pathlib import Path

import dspy
from dspy.utils import DummyLM

from synsym.config import GenerationConfig
from synsym.cooccurrence import sample_combinations

REPO_ROOT = Path(__file__).resolve().parent.parent


def scripted_answers(
    config: GenerationConfig,
    taxonomy,
    *,
    weak: frozenset[str] = frozenset(),
    duplicate_first: bool = False,
    failed_expansions: frozenset[str] = frozenset(),
    fragments: tuple[str, ...] = (),
) -> list[dict]:
    """Build the DummyLM answers a run makes, in the order the runner asks for them.

    Posts whose text contains a word from `weak` get judge score 1 (so they are rejected);
    all others get 4. With `duplicate_first`, the second expression unit repeats the first
    unit's first post, to exercise duplicate removal. Symptoms in `failed_expansions` get
    an unparseable expansion answer for every attempt, and so no expression units.
    `fragments` replace the first posts of the first expression unit. They get no judge
    answer, because the runner rejects them as malformed before judging.
    """
    symptoms = [name for name in taxonomy.labels if config.symptoms is None or name in config.symptoms]
    answers: list[dict] = []
    if config.expansion:
        for name in symptoms:
            if name in failed_expansions:
                answers.extend([{"posts": ["not sub-concepts"]}] * config.max_attempts)
                continue
            answers.append({"sub_concepts": [
                {"name": f"facet {index} of {name}", "description": f"how facet {index} of {name} shows"}
                for index in range(config.sub_concepts_per_symptom)
            ]})

    posts: list[tuple[str, list[str]]] = []
    first_post = None
    for name in symptoms:
        if name in failed_expansions:
            continue
        for index in range(config.sub_concepts_per_symptom):
            for style in config.styles:
                batch = [f"I ({style}) say post {number} about facet {index} of {name}." for number in range(config.posts_per_unit)]
                if duplicate_first and first_post is not None and len(answers) == (len(symptoms) if config.expansion else 0) + 1:
                    batch[0] = first_post
                first_post = first_post or batch[0]
                if fragments and not posts:
                    batch[: len(fragments)] = fragments
                answers.append({"posts": batch})
                posts.extend((text, [name]) for text in batch)

    if config.composition and config.combinations:
        for combination in sample_combinations(taxonomy, config.combinations, config.seed, symptoms=symptoms):
            batch = [f"I live with {' and '.join(combination)}, version {number}." for number in range(config.posts_per_unit)]
            answers.append({"posts": batch})
            posts.extend((text, combination) for text in batch)

    if config.judge:
        seen = set()
        for text, labels in posts:
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            if text in fragments:
                continue
            score = 1 if any(word in text for word in weak) else 4
            answers.append({"scores": [{"symptom": label, "score": score, "reason": "scripted"} for label in labels]})
    return answers


def dummy_lm(answers: list[dict]) -> DummyLM:
    return DummyLM(answers, adapter=dspy.JSONAdapter())
