"""`synsym study`: run a grid of generation variants over seeds and compare them on gold sets."""

from __future__ import annotations

import argparse
import logging
import sys

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `study` subcommand."""
    parser = subparsers.add_parser(
        "study",
        help="compare generation variants: generate each over seeds, train a classifier, score on gold sets",
        description=(
            "Run the study described by a TOML recipe (see eval/studies/ and docs/studies.md): generate every "
            "variant with every seed into STUDY/runs/, train a classifier on each run, score it on each gold "
            "set, and write STUDY/report.md, report.json and macro_f1.png. Rerunning the same command resumes: "
            "finished cells are skipped and unfinished runs continue where they stopped."
        ),
    )
    parser.add_argument("recipe", metavar="RECIPE", help="TOML study recipe, e.g. eval/studies/ablation.toml")
    parser.add_argument("--output", "-o", metavar="DIR", help="study folder (default: the recipe's output, else runs/studies/<recipe name>)")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for a local model (default: all cores)")
    parser.add_argument("--report-only", action="store_true", help="write the report from the cells finished so far, without running anything")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and their run folders, then stop")
    parser.add_argument("--no-progress", action="store_true", help="hide the generation progress bars")
    parser.set_defaults(handler=run)


def _print_cell(record: dict) -> None:
    parts = []
    for gold, score in record["scores"].items():
        parts.append(f"{gold} macro-F1 {score['macro_f1']:.3f}" if "macro_f1" in score else f"{gold} not scored")
    shared = f", re-filtered from {record['shared_generation_from']}" if record["shared_generation_from"] else ""
    print(f"{record['cell']}: {record['generation']['posts_kept']} posts, {record['generation']['lm_calls']} LM calls{shared}; {'; '.join(parts)}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the study, then write its report."""
    from synsym.config import ConfigError
    from synsym.lm import LMSpecError, ModelFileError
    from synsym.programs import ProgramLoadError
    from synsym.study import StudyError, load_recipe, plan_cells, report_study, run_study
    from synsym.taxonomy import TaxonomyError

    try:
        recipe = load_recipe(args.recipe)
        if args.output:
            recipe = recipe.model_copy(update={"output": args.output})
        if args.dry_run:
            for cell in plan_cells(recipe, recipe.output):
                print(f"{cell.name}\t{cell.config.output}")
            return 0
        if not args.report_only:
            run_study(recipe, n_threads=args.n_threads, show_progress=not args.no_progress, on_cell=_print_cell)
        paths = report_study(recipe)
    except (StudyError, ConfigError, TaxonomyError, LMSpecError, ModelFileError, ProgramLoadError) as error:
        print(f"synsym study: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished cells and units are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    print(f"report: {paths['markdown']} (also {paths['json'].name}, {paths['chart'].name})")
    return 0
