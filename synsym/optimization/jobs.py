"""Generation jobs: the examples that a DSPy optimiser scores a program on.

A DSPy optimiser scores a program on one example at a time. Here an example is a
generation job, a `GenerationConfig` for a group of symptoms and a seed; the program turns
it into a small data set, and the metric scores that data set through a classifier. The
jobs of one seed together cover every symptom of the recipe.
"""

from __future__ import annotations

import logging

import dspy

from synsym.config import GenerationConfig
from synsym.cooccurrence import sample_combinations
from synsym.optimization.recipe import Recipe
from synsym.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)


def symptom_groups(recipe: Recipe) -> list[list[str]]:
    """Return the recipe's symptoms cut, in taxonomy order, into groups of `symptoms_per_job`."""
    taxonomy = load_taxonomy(recipe.generation.taxonomy)
    wanted = recipe.generation.symptoms
    names = [name for name in taxonomy.labels if wanted is None or name in wanted]
    unknown = sorted(set(wanted or []) - set(taxonomy.labels))
    if unknown:
        raise ValueError(f"generation.symptoms has {unknown}, which are not in taxonomy {taxonomy.name!r}")
    size = recipe.jobs.symptoms_per_job or len(names)
    return [names[start : start + size] for start in range(0, len(names), size)]


def job_config(recipe: Recipe, symptoms: list[str], seed: int) -> GenerationConfig:
    """Return the generation config of one job.

    Units run one at a time (`threads=1`): the runner's worker threads do not inherit DSPy's
    per-call context, so predictor traces, which bootstrapping and GEPA need, would be lost.
    """
    settings = recipe.generation.model_dump()
    settings.update(
        symptoms=symptoms,
        seed=seed,
        threads=1,
        lm=recipe.lm.model,
        api_base=recipe.lm.api_base,
        temperature=recipe.lm.temperature,
        max_tokens=recipe.lm.max_tokens,
        grammar=recipe.lm.grammar,
        output="(in memory)",
    )
    settings["combinations"] = feasible_combinations(load_taxonomy(recipe.generation.taxonomy), settings)
    return GenerationConfig.model_validate(settings)


def feasible_combinations(taxonomy: Taxonomy, settings: dict) -> int:
    """Return how many of the requested combinations a job's symptom group allows.

    A small group may have no combination that the co-occurrence prior's constraints
    accept (two symptoms that each need a larger combination, say); the runner would then
    fail the whole job, so the job requests fewer combinations, down to none.
    """
    requested = settings["combinations"]
    if not settings["composition"] or settings["combination_source"] == "lm":
        return requested
    uniform = settings["combination_source"] == "uniform"
    for count in range(requested, 0, -1):
        try:
            sample_combinations(taxonomy, count, settings["seed"], symptoms=settings["symptoms"], uniform=uniform)
        except ValueError:
            continue
        if count < requested:
            logger.warning("symptoms %s allow only %d of %d combinations (seed %d)", settings["symptoms"], count, requested, settings["seed"])
        return count
    if requested:
        logger.warning("symptoms %s allow no multi-symptom combination; that job writes single-symptom posts only", settings["symptoms"])
    return 0


def build_jobs(recipe: Recipe, seeds: list[int]) -> list[dspy.Example]:
    """Return one example per (seed, symptom group), with `config` as its only input."""
    examples = []
    for seed in seeds:
        for group in symptom_groups(recipe):
            examples.append(dspy.Example(config=job_config(recipe, group, seed)).with_inputs("config"))
    return examples


def job_label(example: dspy.Example) -> str:
    """Return a short name of a job for logs and feedback."""
    config: GenerationConfig = example.config
    return f"seed {config.seed}: {', '.join(config.symptoms or [])}"
