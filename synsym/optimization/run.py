"""Run an optimisation recipe end to end: gold split, optimiser, held-out report, program and manifest.

The optimisation folder (`work_dir`) contains what lets a stopped run resume cheaply:

- `recipe.json`: the validated recipe; a rerun with other settings is rejected unless `fresh`;
- `metric_cache.json`: every finished metric result, keyed by data and classifier digests;
- `progress.jsonl`: one line per metric call and per evaluation;
- `gepa/`: GEPA's own state (its `log_dir`), from which GEPA continues.

LM calls already made are answered from DSPy's response cache on a rerun (for LMs built
with the cache on, which `build_lm` does by default), so a resumed MIPROv2 or random
search replays its finished trials without running the model again.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dspy
from dspy.utils.callback import BaseCallback

import synsym
from synsym.dataset import GeneratedData
from synsym.evaluation.data import LabelledSet
from synsym.evaluation.runner import evaluate_generated
from synsym.lm import LMHandle, build_lm
from synsym.modules import SynSymProgram, program_fingerprint
from synsym.optimization.gold import GoldSplit, fingerprint_set, prepare_gold
from synsym.optimization.jobs import build_jobs, job_label, symptom_groups
from synsym.optimization.metric import GenerationMetric, MetricCache, restrict_labels, training_set
from synsym.optimization.optimizers import compile_program
from synsym.optimization.recipe import DUMMY_LM, GepaSettings, LMSettings, Recipe, RecipeError
from synsym.optimization.scripted import ScriptedLM
from synsym.programs import load_program, save_program

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
# Recipe fields that may change between a run and its resumption: they decide where the
# result goes, not what is optimised.
RESUMABLE_FIELDS = frozenset({"name", "description", "output_dir", "work_dir"})


@dataclass
class OptimizationResult:
    """A finished optimisation: the program, where it was saved, and its manifest."""

    program: SynSymProgram
    program_path: Path
    manifest_path: Path
    manifest: dict


def build_recipe_lm(settings: LMSettings, *, n_threads: int | None = None) -> LMHandle:
    """Build the LM of a recipe table; `dummy` gives the offline `ScriptedLM`."""
    if settings.model == DUMMY_LM:
        return LMHandle(lm=ScriptedLM(), spec=DUMMY_LM, name=DUMMY_LM, fingerprint=DUMMY_LM, is_local=True)
    return build_lm(
        settings.model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        api_base=settings.api_base,
        n_threads=n_threads,
        grammar=settings.grammar,
    )


def build_prompt_lm(recipe: Recipe, handle: LMHandle, *, n_threads: int | None = None) -> tuple[dspy.LM, str]:
    """Return the prompt LM and its name; the generating LM's model is shared when the specs match.

    Sharing matters for local models: a copy reuses the loaded weights instead of loading
    them a second time.
    """
    settings = recipe.resolved_prompt_lm
    if settings.model == recipe.lm.model and settings.api_base == recipe.lm.api_base:
        return handle.lm.copy(temperature=settings.temperature, max_tokens=settings.max_tokens), handle.name
    prompt_handle = build_recipe_lm(settings, n_threads=n_threads)
    return prompt_handle.lm, prompt_handle.name


class OptimizationProgress(BaseCallback):
    """Counts LM requests and evaluations and reports the best score so far.

    Each finished evaluation (a DSPy `Evaluate` pass over jobs, which is one trial or
    candidate score) produces a progress event: evaluations so far, its score, the best
    score, LM requests (generation and prompt LM) and elapsed seconds.
    """

    def __init__(self, metric_cache: MetricCache, log_path: Path | None, emit: Callable[[dict], None] | None):
        self.metric_cache = metric_cache
        self.log_path = log_path
        self.emit = emit
        self.started = time.perf_counter()
        self.lm_requests = 0
        self.prompt_requests = 0
        self.evaluations = 0
        self.metric_calls = 0
        self.best_score: float | None = None
        self._program_calls: set[str] = set()
        self._lock = threading.Lock()

    # An LM request made while a SynSymProgram runs is a generation request; any other
    # request (instruction proposals, reflection) is a prompt-LM request. Optimisers copy
    # LMs with new rollout ids, so the LM instance cannot tell the two apart.
    def on_module_start(self, call_id, instance, inputs):
        if isinstance(instance, SynSymProgram):
            with self._lock:
                self._program_calls.add(call_id)

    def on_module_end(self, call_id, outputs, exception):
        with self._lock:
            self._program_calls.discard(call_id)

    def on_lm_start(self, call_id, instance, inputs):
        with self._lock:
            self.lm_requests += 1
            if not self._program_calls:
                self.prompt_requests += 1

    def on_evaluate_end(self, call_id, outputs, exception):
        if outputs is None or exception is not None:
            return
        score = float(outputs.score) / 100.0
        with self._lock:
            self.evaluations += 1
            self.best_score = score if self.best_score is None else max(self.best_score, score)
        self.record({"event": "evaluation", "evaluation": self.evaluations, "jobs": len(outputs.results), "score": round(score, 4)})

    def on_metric(self, details: dict) -> None:
        with self._lock:
            self.metric_calls += 1
        self.record({"event": "metric", "metric_call": self.metric_calls, **details})

    def snapshot(self) -> dict:
        return {
            "evaluations": self.evaluations,
            "metric_calls": self.metric_calls,
            "best_score": None if self.best_score is None else round(self.best_score, 4),
            "lm_requests": self.lm_requests,
            "generation_requests": self.lm_requests - self.prompt_requests,
            "prompt_requests": self.prompt_requests,
            "metric_cache_hits": self.metric_cache.hits,
            "elapsed_seconds": round(time.perf_counter() - self.started, 1),
        }

    def record(self, event: dict) -> None:
        line = {**event, **self.snapshot()}
        if event["event"] == "evaluation":
            logger.info(
                "evaluation %d: macro-F1 %.3f (best %.3f); %d LM requests (%d prompt); %d metric calls, %d cached; %.0f s",
                line["evaluations"], event["score"], line["best_score"], line["lm_requests"], line["prompt_requests"],
                line["metric_calls"], line["metric_cache_hits"], line["elapsed_seconds"],
            )
        if self.log_path is not None:
            with open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str) + "\n")
        if self.emit is not None:
            self.emit(line)


def prepare_work_dir(recipe: Recipe, fresh: bool) -> Path:
    """Create the optimisation folder, or check that the run in it has the same settings."""
    work_dir = recipe.resolved_work_dir
    recipe_path = work_dir / "recipe.json"
    current = {key: value for key, value in recipe.model_dump(mode="json").items() if key not in RESUMABLE_FIELDS}
    if fresh and work_dir.exists():
        for name in ("recipe.json", "metric_cache.json", "progress.jsonl"):
            (work_dir / name).unlink(missing_ok=True)
        shutil.rmtree(work_dir / "gepa", ignore_errors=True)
    if recipe_path.is_file():
        previous = json.loads(recipe_path.read_text(encoding="utf-8"))
        previous = {key: value for key, value in previous.items() if key not in RESUMABLE_FIELDS}
        changed = sorted(key for key in set(previous) | set(current) if previous.get(key) != current.get(key))
        if changed:
            raise RecipeError(
                f"optimisation folder {work_dir} contains a run with other settings ({', '.join(changed)} differ); "
                "resume it with the same recipe, pass --fresh to start over, or set another work_dir"
            )
        logger.info("resuming the optimisation in %s", work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    recipe_path.write_text(json.dumps(recipe.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return work_dir


def generate_for_jobs(program: SynSymProgram, jobs: list[dspy.Example]) -> GeneratedData:
    """Run the program on every job and join the data sets (rows and rejects in job order)."""
    rows: list[dict] = []
    rejects: list[dict] = []
    calls = 0
    for job in jobs:
        data = program(**job.inputs())
        rows.extend(data.rows)
        rejects.extend(data.rejects)
        calls += int(data.usage.get("calls", 0))
        logger.info("job %s: %d posts kept, %d rejected", job_label(job), len(data.rows), len(data.rejects))
    return GeneratedData(rows=rows, rejects=rejects, usage={"calls": calls})


def score_held_out(program: SynSymProgram, jobs: list[dspy.Example], held_out: LabelledSet, recipe: Recipe) -> dict:
    """Generate the validation jobs' data with `program` and score it on the held-out gold posts.

    Returns:
        {"macro_f1", "macro_f1_ci95", "per_label", "n_train", "n_test", "lm_requests"}; a
        macro-F1 of 0 when no post was kept.
    """
    labels = [label for group in symptom_groups(recipe) for label in group]
    data = generate_for_jobs(program, jobs)
    gold = restrict_labels(held_out, labels)
    train = training_set(data, labels)
    if len(train) == 0:
        return {"macro_f1": 0.0, "macro_f1_ci95": None, "per_label": {}, "n_train": 0, "n_test": len(gold), "lm_requests": data.usage["calls"]}
    scores = evaluate_generated(
        train,
        gold,
        classifier=recipe.classifier.name,
        classifier_params=recipe.classifier.params,
        taxonomy=recipe.generation.taxonomy,
        threshold=recipe.classifier.threshold,
        seeds=(0,),
        bootstrap=recipe.classifier.bootstrap,
    )
    return {
        "macro_f1": scores["macro_f1"],
        "macro_f1_ci95": scores["macro_f1_ci95"],
        "per_label": {label: values["f1"] for label, values in scores["per_label"].items()},
        "n_train": scores["n_train"],
        "n_test": scores["n_test"],
        "lm_requests": data.usage["calls"],
    }


def run_optimization(
    recipe: Recipe,
    *,
    lm: LMHandle | None = None,
    prompt_lm: dspy.LM | None = None,
    fresh: bool = False,
    n_threads: int | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> OptimizationResult:
    """Optimise the program's prompts as the recipe says and save the program with its manifest.

    Args:
        recipe: The validated recipe.
        lm: A generating LM to use instead of building one from `recipe.lm`.
        prompt_lm: A prompt LM to use instead of building one from `recipe.prompt_lm`.
        fresh: Discard the metric cache, progress log and GEPA state of an earlier run.
        n_threads: CPU threads for a local model (None: all cores).
        on_progress: Called with each progress event (see `OptimizationProgress`).

    Raises:
        RecipeError: the optimisation folder contains a run with other settings.
        synsym.programs.ProgramLoadError: the recipe's starting program cannot be loaded.
    """
    started = time.perf_counter()
    work_dir = prepare_work_dir(recipe, fresh)
    handle = lm or build_recipe_lm(recipe.lm, n_threads=n_threads)
    if prompt_lm is not None:
        prompt_name = getattr(prompt_lm, "model", "custom")
    else:
        prompt_lm, prompt_name = build_prompt_lm(recipe, handle, n_threads=n_threads)

    gold = prepare_gold(recipe.gold, recipe.generation.taxonomy)
    trainset = build_jobs(recipe, recipe.jobs.train_seeds)
    valset = build_jobs(recipe, recipe.jobs.val_seeds)
    start_program = load_program(recipe.program) if recipe.program else SynSymProgram()

    cache = MetricCache(work_dir / "metric_cache.json")
    progress = OptimizationProgress(cache, work_dir / "progress.jsonl", on_progress)
    feedback = isinstance(recipe.optimizer, GepaSettings)
    metric = GenerationMetric(
        gold.optimization,
        recipe.classifier,
        cache,
        feedback=feedback,
        feedback_max_chars=recipe.optimizer.feedback_max_chars if feedback else 1200,
        on_score=progress.on_metric,
    )
    logger.info(
        "optimising with %s: %d training jobs, %d validation jobs, gold %s (%d optimisation / %d held-out posts)",
        recipe.optimizer.name, len(trainset), len(valset), gold.source, len(gold.optimization), len(gold.held_out),
    )

    with dspy.context(lm=handle.lm, callbacks=[progress]):
        before = score_held_out(start_program, valset, gold.held_out, recipe)
        optimized = compile_program(recipe, start_program.deepcopy(), metric, trainset, valset, prompt_lm, work_dir)
        after = score_held_out(optimized, valset, gold.held_out, recipe)

    program_path = save_program(optimized, recipe.program_path)
    manifest = build_manifest(
        recipe, handle, prompt_name, gold, trainset, valset, start_program, optimized, before, after,
        progress.snapshot(), time.perf_counter() - started,
    )
    manifest_path = recipe.manifest_path
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("program written to %s, manifest to %s", program_path, manifest_path)
    return OptimizationResult(program=optimized, program_path=program_path, manifest_path=manifest_path, manifest=manifest)


def build_manifest(
    recipe: Recipe,
    handle: LMHandle,
    prompt_name: str,
    gold: GoldSplit,
    trainset: list[dspy.Example],
    valset: list[dspy.Example],
    start_program: SynSymProgram,
    optimized: SynSymProgram,
    before: dict,
    after: dict,
    progress: dict,
    seconds: float,
) -> dict:
    """Return the manifest of an optimised program: what made it and how it scored."""
    return {
        "synsym_manifest_format": MANIFEST_FORMAT,
        "name": recipe.name,
        "program": str(recipe.program_path),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "synsym_version": synsym.__version__,
        "dspy_version": dspy.__version__,
        "lm": {"name": handle.name, "spec": handle.spec, "fingerprint": handle.fingerprint, "settings": recipe.lm.model_dump(mode="json")},
        "prompt_lm": {"name": prompt_name, "settings": recipe.resolved_prompt_lm.model_dump(mode="json")},
        "optimizer": recipe.optimizer.model_dump(mode="json"),
        "gold": {
            "source": gold.source,
            "fingerprint": gold.fingerprint,
            "optimization_fingerprint": fingerprint_set(gold.optimization),
            "held_out_fingerprint": fingerprint_set(gold.held_out),
            "optimization_posts": len(gold.optimization),
            "held_out_posts": len(gold.held_out),
            "settings": recipe.gold.model_dump(mode="json"),
        },
        "classifier": recipe.classifier.model_dump(mode="json"),
        "generation": recipe.generation.model_dump(mode="json"),
        "jobs": {"train": [job_label(job) for job in trainset], "validation": [job_label(job) for job in valset]},
        "program_fingerprint": {"before": program_fingerprint(start_program), "after": program_fingerprint(optimized)},
        "held_out_macro_f1": {"before": before, "after": after, "difference": round(after["macro_f1"] - before["macro_f1"], 4)},
        "usage": progress,
        "wall_seconds": round(seconds, 1),
        "recipe": recipe.model_dump(mode="json"),
    }
