"""Optimise the program's prompts for the embedded local model and report held-out macro-F1.

Runs a recipe (default `optimizers/mipro-local.toml`) with a gold set sampled at run time
from the SynSym reference set, which is read in place and never copied. It prints
held-out macro-F1 with 95% bootstrap intervals before and after, the budget, the LM
requests and the wall time. The program and its manifest go to `--output-dir`.

The reference set is machine-written by the SynSym authors, so scores on it say how well
generated data matches their generator, not how a classifier does on real posts.

Usage:
    nice -n 10 python eval/benchmarks/optimize_local.py                      # about an hour (estimate)
    python eval/benchmarks/optimize_local.py --dry-run                       # seconds: scripted LM, tiny budget
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from synsym.evaluation.runner import EvaluationError, reference_set_path
from synsym.optimization.recipe import load_recipe, parse_recipe
from synsym.optimization.run import run_optimization

logger = logging.getLogger(__name__)

# The dry run: the scripted LM, 4 symptoms in 2 jobs, 2 MIPROv2 trials.
DRY_RUN_CHANGES = {
    "lm": {"model": "dummy"},
    "prompt_lm": None,
    "optimizer": {"name": "mipro", "num_candidates": 2, "num_trials": 2, "max_bootstrapped_demos": 0},
    "generation": {"symptoms": ["Depressed_Mood", "Sleep_disturbance", "Pessimism", "Suicidal_ideas"],
                   "sub_concepts_per_symptom": 1, "posts_per_unit": 1, "combinations": 1},
    "jobs": {"symptoms_per_job": 2, "train_seeds": [0], "val_seeds": [1]},
}


def build_recipe(args: argparse.Namespace):
    """Load the recipe and point it at the gold set and folders given on the command line."""
    data = load_recipe(args.recipe).model_dump(mode="json")
    gold = "reference"
    try:
        reference_set_path()
    except EvaluationError:
        if not args.dry_run:
            raise
        logger.warning("reference set not found; the dry run uses the demo gold set")
        gold = "eval/gold/demo.jsonl"
    data["gold"].update(path=gold, sample=args.gold_sample if gold == "reference" else None, seed=args.seed)
    data["name"] = f"{data['name']}-benchmark" + ("-dry-run" if args.dry_run else "")
    data["output_dir"] = args.output_dir
    data["work_dir"] = f"{args.work_dir}/{data['name']}"
    if args.dry_run:
        data.update(DRY_RUN_CHANGES)
    return parse_recipe(data, source=f"{args.recipe} (benchmark settings)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="optimizers/mipro-local.toml", help="optimisation recipe (default: optimizers/mipro-local.toml)")
    parser.add_argument("--gold-sample", type=int, default=300, help="reference posts sampled as the gold set (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the gold sample and split (default: 0)")
    parser.add_argument("--output-dir", default="runs/benchmarks/programs", help="folder of the program and manifest (default: runs/benchmarks/programs)")
    parser.add_argument("--work-dir", default="runs/benchmarks/optimize", help="parent of the optimisation folder (default: runs/benchmarks/optimize)")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for the local model (default: all cores)")
    parser.add_argument("--fresh", action="store_true", help="start over instead of resuming an earlier run")
    parser.add_argument("--dry-run", action="store_true", help="scripted LM and a tiny budget, to check the script in seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    recipe = build_recipe(args)
    started = time.perf_counter()
    result = run_optimization(recipe, fresh=args.fresh or args.dry_run, n_threads=args.n_threads)
    seconds = time.perf_counter() - started

    manifest = result.manifest
    usage = manifest["usage"]
    print(f"recipe: {args.recipe}{' (dry run: scripted LM, tiny budget)' if args.dry_run else ''}")
    print(f"LM: {manifest['lm']['name']} ({manifest['lm']['fingerprint']}); prompt LM: {manifest['prompt_lm']['name']}")
    print(f"optimiser and budget: {json.dumps(manifest['optimizer'])}")
    print(f"gold set: {manifest['gold']['source']} (fingerprint {manifest['gold']['fingerprint']}), "
          f"{manifest['gold']['optimization_posts']} optimisation / {manifest['gold']['held_out_posts']} held-out posts")  # fmt: skip
    for side in ("before", "after"):
        score = manifest["held_out_macro_f1"][side]
        interval = score["macro_f1_ci95"]
        bounds = f" (95% bootstrap interval {interval[0]:.4f} to {interval[1]:.4f})" if interval else ""
        print(f"held-out macro-F1 {side}: {score['macro_f1']:.4f}{bounds}, trained on {score['n_train']} generated posts")
    print(f"difference: {manifest['held_out_macro_f1']['difference']:+.4f}")
    print(f"evaluations {usage['evaluations']}, metric calls {usage['metric_calls']} ({usage['metric_cache_hits']} cached), "
          f"LM requests {usage['lm_requests']} (generation {usage['generation_requests']}, prompt {usage['prompt_requests']})")  # fmt: skip
    print(f"wall time: {seconds:.0f} s; program {result.program_path}; manifest {result.manifest_path}")


if __name__ == "__main__":
    main()
