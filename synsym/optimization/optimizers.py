"""Build the DSPy optimiser a recipe names and compile a program with it.

The three optimisers take the same metric and jobs, but differ in what they change:

- `bootstrap_random_search` (`dspy.BootstrapFewShotWithRandomSearch`) keeps the
  instructions and searches over sets of bootstrapped demos, taken from the predictor
  calls of jobs whose data set scored at least `metric_threshold`.
- `mipro` (`dspy.MIPROv2`) proposes instructions with the prompt LM and searches over
  instruction and demo-set combinations with Optuna.
- `gepa` (`dspy.GEPA`) rewrites instructions from the metric's text feedback with the
  prompt LM as its reflection LM, and keeps its state in `log_dir` so a stopped run resumes.

Labelled demos are always off: a job is not an input/output pair of any predictor, so a
"labelled" demo would only hold a generation config.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dspy

from synsym.modules import SynSymProgram
from synsym.optimization.recipe import GepaSettings, MiproSettings, RandomSearchSettings, Recipe

logger = logging.getLogger(__name__)


def compile_program(
    recipe: Recipe,
    program: SynSymProgram,
    metric,
    trainset: list[dspy.Example],
    valset: list[dspy.Example],
    prompt_lm: dspy.LM,
    work_dir: Path,
) -> SynSymProgram:
    """Run the recipe's optimiser on `program` and return the optimised copy.

    The generating LM is DSPy's configured LM (`dspy.settings.lm`); `prompt_lm` proposes
    instructions (MIPROv2) or reflects on feedback (GEPA).
    """
    settings = recipe.optimizer
    if isinstance(settings, RandomSearchSettings):
        return _compile_random_search(settings, program, metric, trainset, valset)
    if isinstance(settings, MiproSettings):
        return _compile_mipro(settings, program, metric, trainset, valset, prompt_lm)
    if isinstance(settings, GepaSettings):
        return _compile_gepa(settings, program, metric, trainset, valset, prompt_lm, work_dir)
    raise TypeError(f"unknown optimiser settings {type(settings).__name__}")


def _compile_random_search(settings: RandomSearchSettings, program, metric, trainset, valset) -> SynSymProgram:
    optimizer = dspy.BootstrapFewShotWithRandomSearch(
        metric=metric,
        max_bootstrapped_demos=settings.max_bootstrapped_demos,
        max_labeled_demos=0,
        max_rounds=settings.max_rounds,
        num_candidate_programs=settings.num_candidate_programs,
        num_threads=settings.num_threads,
        metric_threshold=settings.metric_threshold,
    )
    return optimizer.compile(program, trainset=trainset, valset=valset)


def _compile_mipro(settings: MiproSettings, program, metric, trainset, valset, prompt_lm) -> SynSymProgram:
    minibatch = settings.minibatch
    minibatch_size = settings.minibatch_size
    if minibatch and minibatch_size > len(valset):
        logger.warning("minibatch_size %d exceeds the %d validation jobs; using %d", minibatch_size, len(valset), len(valset))
        minibatch_size = len(valset)
    optimizer = dspy.MIPROv2(
        metric=metric,
        prompt_model=prompt_lm,
        task_model=dspy.settings.lm,
        max_bootstrapped_demos=settings.max_bootstrapped_demos,
        max_labeled_demos=0,
        auto=settings.auto,
        num_candidates=settings.num_candidates,
        num_threads=settings.num_threads,
        seed=settings.seed,
        metric_threshold=settings.metric_threshold,
    )
    return optimizer.compile(
        program,
        trainset=trainset,
        valset=valset,
        num_trials=settings.num_trials,
        minibatch=minibatch,
        minibatch_size=minibatch_size,
        program_aware_proposer=settings.program_aware_proposer,
        data_aware_proposer=settings.data_aware_proposer,
        tip_aware_proposer=settings.tip_aware_proposer,
        fewshot_aware_proposer=settings.fewshot_aware_proposer,
    )


def _compile_gepa(settings: GepaSettings, program, metric, trainset, valset, prompt_lm, work_dir: Path) -> SynSymProgram:
    log_dir = work_dir / "gepa"
    log_dir.mkdir(parents=True, exist_ok=True)
    optimizer = dspy.GEPA(
        metric=metric,
        auto=settings.auto,
        max_metric_calls=settings.max_metric_calls,
        max_full_evals=settings.max_full_evals,
        reflection_minibatch_size=settings.reflection_minibatch_size,
        candidate_selection_strategy=settings.candidate_selection_strategy,
        reflection_lm=prompt_lm,
        use_merge=settings.use_merge,
        num_threads=settings.num_threads,
        log_dir=str(log_dir),
        seed=settings.seed,
        # A macro-F1 of 1.0 on one job tells little about other jobs, so GEPA keeps reflecting on it.
        skip_perfect_score=False,
        warn_on_score_mismatch=False,
    )
    return optimizer.compile(program, trainset=trainset, valset=valset)
