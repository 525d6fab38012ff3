"""Sampling multi-symptom combinations from a taxonomy's co-occurrence prior.

The prior is data (see `CooccurrencePrior`). A combination is drawn in two steps: a size
from `combination_sizes`, then symptoms one at a time, each with probability proportional
to its `symptom_weights` entry times the affinity of every cluster it shares with a
symptom already drawn. Constraints (for example suicidal ideas only in combinations of
three or more that include depressed mood, pessimism or worthlessness) are enforced by
redrawing. Sampling is deterministic for a given seed.
"""

from __future__ import annotations

import logging
import random

from synsym.taxonomy import CooccurrencePrior, Taxonomy

logger = logging.getLogger(__name__)

_MAX_DRAWS_PER_COMBINATION = 200


def pair_affinity(prior: CooccurrencePrior, first: str, second: str) -> float:
    """Return the weight factor for drawing `second` when `first` is already in the combination."""
    factor = 1.0
    for cluster in prior.clusters:
        if first in cluster.symptoms and second in cluster.symptoms:
            factor *= cluster.affinity
    return factor


def satisfies_constraints(prior: CooccurrencePrior, combination: list[str]) -> bool:
    """Check a combination against the prior's constraints."""
    for constraint in prior.constraints:
        if constraint.symptom not in combination:
            continue
        if len(combination) < constraint.min_combination_size:
            return False
        if constraint.requires_any and not any(name in combination for name in constraint.requires_any):
            return False
    return True


def _draw_one(prior: CooccurrencePrior, labels: list[str], size: int, rng: random.Random, uniform: bool) -> list[str]:
    chosen: list[str] = []
    for _ in range(size):
        candidates = [label for label in labels if label not in chosen]
        weights = []
        for label in candidates:
            weight = 1.0 if uniform else prior.symptom_weights.get(label, 1.0)
            if not uniform:
                for present in chosen:
                    weight *= pair_affinity(prior, present, label)
            weights.append(weight)
        if sum(weights) <= 0:
            break
        chosen.append(rng.choices(candidates, weights=weights, k=1)[0])
    return chosen


def sample_combinations(
    taxonomy: Taxonomy,
    count: int,
    seed: int,
    *,
    symptoms: list[str] | None = None,
    uniform: bool = False,
) -> list[list[str]]:
    """Draw `count` distinct combinations (each sorted in taxonomy order).

    Args:
        taxonomy: Supplies the labels and the prior.
        count: Number of combinations.
        seed: Random seed; the same seed gives the same combinations.
        symptoms: Restrict draws to these labels (None: all).
        uniform: Ignore weights and clusters (sizes and constraints still apply), the
            baseline against which the clinical prior is compared.

    Raises:
        ValueError: fewer than two labels are available, or `count` distinct combinations
            cannot be drawn.
    """
    labels = [label for label in taxonomy.labels if symptoms is None or label in symptoms]
    prior = taxonomy.cooccurrence
    sizes = [size for size in prior.combination_sizes if size <= len(labels)]
    if len(labels) < 2 or not sizes:
        raise ValueError(f"multi-symptom combinations need at least 2 symptoms, got {labels}")
    size_weights = [prior.combination_sizes[size] for size in sizes]
    order = {label: index for index, label in enumerate(taxonomy.labels)}
    rng = random.Random(seed)

    combinations: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    draws = 0
    while len(combinations) < count:
        draws += 1
        if draws > _MAX_DRAWS_PER_COMBINATION * max(count, 1):
            raise ValueError(
                f"could draw only {len(combinations)} distinct combinations of the {count} requested from "
                f"{len(labels)} symptoms; lower --combinations or relax the prior's constraints"
            )
        size = rng.choices(sizes, weights=size_weights, k=1)[0]
        combination = sorted(_draw_one(prior, labels, size, rng, uniform), key=order.__getitem__)
        key = tuple(combination)
        if len(combination) < 2 or key in seen or not satisfies_constraints(prior, combination):
            continue
        seen.add(key)
        combinations.append(combination)
    return combinations


def describe_prior(taxonomy: Taxonomy) -> str:
    """Render the prior as plain guidance for an LM that proposes combinations."""
    prior = taxonomy.cooccurrence
    ranked = sorted(taxonomy.labels, key=lambda label: -prior.symptom_weights.get(label, 1.0))
    lines = [
        "Combination sizes and their relative frequency: "
        + ", ".join(f"{size} symptoms ({weight:g})" for size, weight in sorted(prior.combination_sizes.items())) + ".",
        "Symptoms from most to least common in combinations: " + ", ".join(ranked) + ".",
    ]
    for cluster in prior.clusters:
        lines.append(f"The {cluster.name.replace('_', ' ')} cluster often occurs together: {', '.join(cluster.symptoms)}.")
    for constraint in prior.constraints:
        rule = f"{constraint.symptom} appears only in combinations of {constraint.min_combination_size} or more symptoms"
        if constraint.requires_any:
            rule += f" that include at least one of {', '.join(constraint.requires_any)}"
        lines.append(rule + ".")
    return "\n".join(lines)


def clean_proposed(taxonomy: Taxonomy, proposed: list[list[str]], symptoms: list[str] | None = None) -> tuple[list[list[str]], list[str]]:
    """Keep the LM-proposed combinations that use known labels and satisfy the prior.

    Returns the kept combinations (distinct, taxonomy order) and one line per dropped
    proposal saying why, so that the run records what the LM got wrong.
    """
    allowed = [label for label in taxonomy.labels if symptoms is None or label in symptoms]
    by_key = {label.lower(): label for label in allowed}
    order = {label: index for index, label in enumerate(taxonomy.labels)}
    sizes = set(taxonomy.cooccurrence.combination_sizes)
    kept: list[list[str]] = []
    dropped: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for combination in proposed:
        names = [by_key.get(str(name).strip().lower()) for name in combination]
        if any(name is None for name in names):
            dropped.append(f"{combination}: unknown label")
            continue
        unique = sorted(set(names), key=order.__getitem__)
        if len(unique) not in sizes:
            dropped.append(f"{combination}: size {len(unique)} is not one of {sorted(sizes)}")
            continue
        if not satisfies_constraints(taxonomy.cooccurrence, unique):
            dropped.append(f"{combination}: violates the prior's constraints")
            continue
        if tuple(unique) in seen:
            dropped.append(f"{combination}: duplicate")
            continue
        seen.add(tuple(unique))
        kept.append(unique)
    return kept, dropped
