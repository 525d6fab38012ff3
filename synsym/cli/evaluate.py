"""`synsym evaluate`: train a classifier on generated (and real) posts and score it on held-out posts.

Settings come from `--recipe FILE` (a TOML file such as `eval/recipes/tfidf.toml`) and are
overridden by the options given on the command line. The report folder receives
`report.json`, `report.md` and `per_label_f1.png`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `evaluate` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score generated data: train a classifier on it, report macro-F1 on held-out posts",
        description=(
            "Train a symptom classifier on generated posts (and optionally real posts), score it on a "
            "labelled test set, and write report.json, report.md and per_label_f1.png. Options override "
            "the values of --recipe; an option left out keeps the recipe's value, else the default shown."
        ),
    )
    parser.add_argument("--recipe", metavar="FILE", help="TOML recipe with these settings (default: none)")
    parser.add_argument(
        "--train",
        action="append",
        metavar="PATH",
        help="generated run folder or labelled file; repeat to concatenate several (default: none)",
    )
    parser.add_argument("--real-train", metavar="PATH", help="labelled file of real training posts (default: none)")
    parser.add_argument(
        "--test",
        metavar="PATH",
        help="labelled test file, or 'reference' for the SynSym reference set (default: reference)",
    )
    parser.add_argument(
        "--format",
        help="format of the labelled files: auto, generic, synsym-release, redsm5, primate, psysym, run "
        "(default: auto)",
    )
    parser.add_argument("--taxonomy", help="taxonomy name or YAML/JSON file (default: depression14)")
    parser.add_argument(
        "--view",
        help="label view to train and score in, e.g. phq9 to score taxonomy-labelled posts on a PHQ-9 set "
        "(default: none, the taxonomy's labels)",
    )
    parser.add_argument(
        "--classifier", choices=("tfidf", "embedding", "finetune"), help="classifier to train (default: tfidf)"
    )
    parser.add_argument(
        "--base-model",
        metavar="FOLDER",
        help="local Hugging Face model folder for embedding or finetune (default: bundled all-MiniLM-L6-v2)",
    )
    parser.add_argument(
        "--classifier-param",
        action="append",
        metavar="NAME=VALUE",
        help="extra classifier parameter, value parsed as JSON when it can be, e.g. max_epochs=3; repeatable "
        "(default: none)",
    )
    parser.add_argument(
        "--regimes",
        help="comma-separated training regimes from synthetic, real, synthetic_then_real (default: synthetic)",
    )
    parser.add_argument("--seeds", help="comma-separated seeds, one run per seed, e.g. 0,1,2 (default: 0)")
    parser.add_argument(
        "--folds",
        type=int,
        help="number of stratified cross-validation folds on the test set; 1 scores the whole test set (default: 1)",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        help="number of bootstrap resamples of test posts for the 95%% interval; 0 skips it (default: 1000)",
    )
    parser.add_argument(
        "--threshold",
        help="decision threshold as a probability, or 'tuned' for per-label thresholds (default: 0.5)",
    )
    parser.add_argument(
        "--labels",
        choices=("support", "all"),
        help="labels macro-F1 averages over: those with positive test posts, or all (default: support)",
    )
    parser.add_argument(
        "--real-weight",
        type=float,
        help="weight per real post in the tfidf/embedding synthetic_then_real union "
        "(default: max(1, synthetic posts / real posts))",
    )
    parser.add_argument("--output", metavar="FOLDER", help="report folder (default: evaluation-report)")
    parser.set_defaults(handler=run)


def _parse_list(value: str, option: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError(f"{option} {value!r} is empty; give comma-separated values")
    return items


def _parse_classifier_params(pairs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or not name:
            raise ValueError(f"--classifier-param {pair!r} is invalid; write NAME=VALUE, e.g. max_epochs=3")
        try:
            params[name] = json.loads(text)
        except json.JSONDecodeError:
            params[name] = text
    return params


def collect_settings(args: argparse.Namespace) -> dict[str, object]:
    """Return the settings mapping: the recipe's values, overridden by the options given."""
    from synsym.evaluation.runner import load_recipe

    settings = load_recipe(args.recipe).model_dump() if args.recipe else {}
    overrides = {
        "train": args.train,
        "real_train": args.real_train,
        "test": args.test,
        "format": args.format,
        "taxonomy": args.taxonomy,
        "view": args.view,
        "classifier": args.classifier,
        "base_model": args.base_model,
        "folds": args.folds,
        "bootstrap": args.bootstrap,
        "labels": args.labels,
        "real_weight": args.real_weight,
        "output": args.output,
    }
    if args.regimes is not None:
        overrides["regimes"] = _parse_list(args.regimes, "--regimes")
    if args.seeds is not None:
        try:
            overrides["seeds"] = [int(seed) for seed in _parse_list(args.seeds, "--seeds")]
        except ValueError:
            raise ValueError(f"--seeds {args.seeds!r} is invalid; give comma-separated integers, e.g. 0,1,2") from None
    if args.threshold is not None:
        overrides["threshold"] = args.threshold if args.threshold == "tuned" else _parse_threshold(args.threshold)
    if args.classifier_param:
        overrides["classifier_params"] = {
            **settings.get("classifier_params", {}),
            **_parse_classifier_params(args.classifier_param),
        }
    if args.classifier is not None and args.recipe and args.classifier != settings.get("classifier"):
        # A recipe's classifier parameters belong to its own classifier.
        settings.pop("classifier_params", None)
        settings.pop("base_model", None)
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return settings


def _parse_threshold(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--threshold {text!r} is invalid; give a probability such as 0.5, or 'tuned'") from None


def run(args: argparse.Namespace) -> int:
    """Run the evaluation, write the report and print one line per regime."""
    from synsym.evaluation.reports import write_report
    from synsym.evaluation.runner import parse_config, run_evaluation

    try:
        config = parse_config(collect_settings(args), source=args.recipe or "command line")
        report = run_evaluation(config)
    except ValueError as error:
        # Input errors (EvaluationError, DataFormatError, RegimeError, ClassifierError,
        # TaxonomyError) all subclass ValueError and carry a message that names the fix.
        print(f"synsym evaluate: error: {error}", file=sys.stderr)
        return 2

    paths = write_report(report, config.output)
    for name, result in report["regimes"].items():
        macro = result["macro_f1"]
        interval = result["macro_f1_ci95"]
        interval_text = f" 95% interval [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""
        print(f"{name}: macro-F1 {macro['mean']:.3f} ± {macro['std']:.3f} over {macro['n']} runs;{interval_text}")
    print(f"report: {paths['markdown']} (also {paths['json'].name}, {paths['chart'].name})")
    return 0
