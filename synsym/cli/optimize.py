"""`synsym optimize`: fit the program's prompts to an LM with a DSPy optimiser and a gold set."""

from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "optimize",
        help="optimise the program's prompts for one LM against a gold set",
        description=(
            "Run a TOML optimisation recipe (see optimizers/): generate small data sets with the program, score each "
            "through a classifier on the gold set's optimisation part, let a DSPy optimiser (MIPROv2, GEPA or "
            "bootstrap random search) improve the prompts, then report held-out macro-F1 before and after and write "
            "programs/<name>.json with a manifest. Rerunning the same recipe resumes from the optimisation folder."
        ),
    )
    parser.add_argument("recipe", metavar="RECIPE", help="TOML recipe, e.g. optimizers/mipro-local.toml")
    parser.add_argument("--name", default=None, help="program name; the result is OUTPUT_DIR/NAME.json (default: the recipe's name)")
    parser.add_argument("--output-dir", default=None, help="folder of the program and its manifest (default: the recipe's, else programs)")
    parser.add_argument("--work-dir", default=None, help="optimisation folder with the metric cache and logs (default: the recipe's, else runs/optimize/NAME)")
    parser.add_argument("--lm", default=None, help="generating LM: local, local:NAME, local:PATH.gguf, a LiteLLM model string, or dummy (default: the recipe's)")
    parser.add_argument("--api-base", default=None, help="server URL of a LiteLLM generating LM (default: the recipe's)")
    parser.add_argument("--prompt-lm", default=None, help="LM that proposes or reflects on prompts (default: the recipe's, else the generating LM)")
    parser.add_argument("--prompt-api-base", default=None, help="server URL of a LiteLLM prompt LM (default: the recipe's)")
    parser.add_argument("--gold", default=None, help="gold set: a labelled file or 'reference' (default: the recipe's)")
    parser.add_argument("--gold-sample", type=int, default=None, help="posts drawn from the gold set before the split (default: the recipe's)")
    parser.add_argument("--fresh", action="store_true", help="discard the metric cache, progress log and GEPA state of an earlier run of this recipe")
    parser.add_argument("--dry-run", action="store_true", help="validate the recipe and print the jobs and budget without calling an LM")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for a local model (default: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="hide the per-evaluation progress lines")
    parser.set_defaults(handler=run)


def resolve_recipe(args: argparse.Namespace):
    """Load the recipe and apply the command-line overrides, validating the result."""
    from synsym.optimization.recipe import load_recipe, parse_recipe

    data = load_recipe(args.recipe).model_dump(mode="json")
    for option, key in (("name", "name"), ("output_dir", "output_dir"), ("work_dir", "work_dir")):
        if getattr(args, option) is not None:
            data[key] = getattr(args, option)
    if args.lm is not None or args.api_base is not None:
        data["lm"] = {**data["lm"], **({"model": args.lm} if args.lm else {}), **({"api_base": args.api_base} if args.api_base else {})}
    if args.prompt_lm is not None or args.prompt_api_base is not None:
        base = data.get("prompt_lm") or {"model": data["lm"]["model"]}
        data["prompt_lm"] = {**base, **({"model": args.prompt_lm} if args.prompt_lm else {}), **({"api_base": args.prompt_api_base} if args.prompt_api_base else {})}
    if args.gold is not None:
        data["gold"]["path"] = args.gold
    if args.gold_sample is not None:
        data["gold"]["sample"] = args.gold_sample
    return parse_recipe(data, source=f"{args.recipe} with command-line options")


def describe_plan(recipe) -> str:
    """Return the jobs and budget of a recipe as text (the --dry-run output)."""
    from synsym.optimization.jobs import symptom_groups

    groups = symptom_groups(recipe)
    prompt = recipe.resolved_prompt_lm
    lines = [
        f"recipe {recipe.name}: optimiser {recipe.optimizer.name}",
        f"  budget: {json.dumps(recipe.optimizer.model_dump(mode='json'))}",
        f"  generating LM: {recipe.lm.model}; prompt LM: {prompt.model}",
        f"  gold set: {recipe.gold.path} (sample {recipe.gold.sample or 'all'}, held out {recipe.gold.holdout_fraction:.0%}, seed {recipe.gold.seed})",
        f"  classifier: {recipe.classifier.name}",
        f"  jobs: {len(groups)} symptom groups x {len(recipe.jobs.train_seeds)} training seeds, x {len(recipe.jobs.val_seeds)} validation seeds",
    ]
    lines.extend(f"    group {index}: {', '.join(group)}" for index, group in enumerate(groups))
    lines.append(f"  output: {recipe.program_path} and {recipe.manifest_path}; optimisation folder {recipe.resolved_work_dir}")
    return "\n".join(lines)


def print_progress(event: dict) -> None:
    if event.get("event") != "evaluation":
        return
    minutes, seconds = divmod(int(event["elapsed_seconds"]), 60)
    print(
        f"evaluation {event['evaluations']}: macro-F1 {event['score']:.3f} (best {event['best_score']:.3f}) | "
        f"LM requests {event['lm_requests']} ({event['prompt_requests']} prompt) | metric calls {event['metric_calls']} "
        f"({event['metric_cache_hits']} cached) | {minutes}m{seconds:02d}s",
        file=sys.stderr,
        flush=True,
    )


def _format_score(score: dict) -> str:
    interval = score.get("macro_f1_ci95")
    text = f"{score['macro_f1']:.3f}"
    if interval:
        text += f" (95% CI {interval[0]:.3f}-{interval[1]:.3f})"
    return text


def run(args: argparse.Namespace) -> int:
    from synsym.config import ConfigError
    from synsym.evaluation.data import DataFormatError
    from synsym.evaluation.runner import EvaluationError
    from synsym.lm import LMSpecError, ModelFileError
    from synsym.optimization.recipe import RecipeError
    from synsym.programs import ProgramLoadError
    from synsym.taxonomy import TaxonomyError

    errors = (RecipeError, ConfigError, TaxonomyError, LMSpecError, ModelFileError, ProgramLoadError, DataFormatError, EvaluationError)
    try:
        recipe = resolve_recipe(args)
        if args.dry_run:
            print(describe_plan(recipe))
            return 0
        from synsym.optimization.run import run_optimization

        result = run_optimization(recipe, fresh=args.fresh, n_threads=args.n_threads, on_progress=None if args.no_progress else print_progress)
    except errors as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished metric scores are saved; run the same command again to resume.", file=sys.stderr)
        return 130

    manifest = result.manifest
    scores = manifest["held_out_macro_f1"]
    usage = manifest["usage"]
    print(f"held-out macro-F1 ({manifest['gold']['held_out_posts']} posts): before {_format_score(scores['before'])}, after {_format_score(scores['after'])}")
    print(
        f"{usage['evaluations']} evaluations, {usage['metric_calls']} metric calls ({usage['metric_cache_hits']} cached), "
        f"{usage['lm_requests']} LM requests ({usage['prompt_requests']} prompt); {manifest['wall_seconds']:.0f} s"
    )
    print(f"program: {result.program_path} (manifest: {result.manifest_path})")
    print(f"use it with: synsym generate --program {result.program_path} --lm {manifest['lm']['spec']}")
    return 0
