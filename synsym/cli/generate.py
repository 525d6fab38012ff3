"""`synsym generate`: run the SynSym program and write a data set to a run folder."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from synsym.config import DEFAULT_THRESHOLD, ConfigError, GenerationConfig, format_config_error, load_config

logger = logging.getLogger(__name__)

# Options that map one to one onto GenerationConfig fields.
_FIELD_OPTIONS = {
    "lm": "lm", "api_base": "api_base", "temperature": "temperature", "max_tokens": "max_tokens",
    "program": "program", "grammar": "grammar", "taxonomy": "taxonomy", "sub_concepts": "sub_concepts_per_symptom",
    "posts_per_unit": "posts_per_unit", "combinations": "combinations", "combination_source": "combination_source",
    "threshold": "threshold", "threads": "threads", "seed": "seed", "output": "output", "max_attempts": "max_attempts",
}


def add_parser(subparsers) -> None:
    defaults = GenerationConfig()
    parser = subparsers.add_parser(
        "generate",
        help="generate a symptom-labelled data set",
        description=(
            "Run the SynSym method (expansion, expressions, composition, judging) and write a data set to a run folder. "
            "Rerunning the same command resumes an interrupted run without repeating finished LM calls."
        ),
    )
    parser.add_argument("--config", help="a config.json from an earlier run; options given on the command line override it")
    parser.add_argument("--lm", default=None, help=f"`local` (embedded Qwen2.5-Coder-1.5B), `local:NAME` (see `synsym models`), `local:PATH.gguf`, or a LiteLLM model string such as openai/gpt-4o-mini (default: {defaults.lm})")
    parser.add_argument("--api-base", default=None, help="server URL for LiteLLM models, e.g. http://127.0.0.1:8000/v1 for vLLM (default: none)")
    parser.add_argument("--temperature", type=float, default=None, help=f"sampling temperature, 0-2 (default: {defaults.temperature})")
    parser.add_argument("--max-tokens", type=int, default=None, help=f"maximum completion tokens per LM call (default: {defaults.max_tokens})")
    parser.add_argument("--grammar", choices=["auto", "off", "json", "schema"], default=None, help="decoding constraint for local models: auto (the model's own choice: off for Qwen, schema for SmolLM2), off, json, or the output schema (default: auto)")
    parser.add_argument("--program", default=None, help="a saved program state (JSON) to use instead of the built-in prompts (default: none)")
    parser.add_argument("--taxonomy", default=None, help=f"built-in taxonomy name or path of a YAML/JSON taxonomy file (default: {defaults.taxonomy})")
    parser.add_argument("--symptoms", default=None, help="comma-separated labels to generate for (default: all labels of the taxonomy)")
    parser.add_argument("--styles", default=None, help=f"comma-separated styles (default: {','.join(defaults.styles)})")
    parser.add_argument("--output", "-o", default=None, help=f"run folder; an existing run there is resumed (default: {defaults.output})")
    parser.add_argument("--sub-concepts", type=int, default=None, help=f"sub-concepts per symptom (default: {defaults.sub_concepts_per_symptom})")
    parser.add_argument("--posts-per-unit", type=int, default=None, help=f"posts per sub-concept and style, and per combination (default: {defaults.posts_per_unit})")
    parser.add_argument("--combinations", type=int, default=None, help=f"multi-symptom combinations, 0 for none (default: {defaults.combinations})")
    parser.add_argument("--combination-source", choices=["prior", "lm", "uniform"], default=None, help=f"where combinations come from: the taxonomy's clinical prior, the LM under that prior, or uniform (default: {defaults.combination_source})")
    parser.add_argument("--no-expansion", action="store_true", help="skip sub-concept expansion and prompt with the bare symptom")
    parser.add_argument("--no-judge", action="store_true", help="keep every post without judging it")
    parser.add_argument("--threshold", type=int, default=None, help=f"minimum judge score, 0-5, that every label of a kept post needs (default: {DEFAULT_THRESHOLD})")
    parser.add_argument("--threads", type=int, default=None, help=f"parallel LM calls for remote LMs; local models run one at a time (default: {defaults.threads})")
    parser.add_argument("--max-attempts", type=int, default=None, help=f"tries per unit before it is recorded as failed (default: {defaults.max_attempts})")
    parser.add_argument("--seed", type=int, default=None, help=f"random seed for combinations and sampling (default: {defaults.seed})")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for a local model (default: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(handler=run)


def resolve_config(args: argparse.Namespace) -> GenerationConfig:
    """Merge a --config file with the command-line options into one validated config."""
    from pydantic import ValidationError

    base = load_config(args.config).model_dump() if args.config else {}
    for option, field_name in _FIELD_OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            base[field_name] = value
    if args.symptoms is not None:
        base["symptoms"] = [name.strip() for name in args.symptoms.split(",") if name.strip()]
    if args.styles is not None:
        base["styles"] = [name.strip() for name in args.styles.split(",") if name.strip()]
    if args.no_expansion:
        base["expansion"] = False
    if args.no_judge:
        base["judge"] = False
    try:
        return GenerationConfig.model_validate(base)
    except ValidationError as error:
        raise ConfigError(format_config_error(error, "the command line")) from None


def run(args: argparse.Namespace) -> int:
    from synsym.generation import generate
    from synsym.lm import LMSpecError, ModelFileError
    from synsym.programs import ProgramLoadError
    from synsym.taxonomy import TaxonomyError

    try:
        config = resolve_config(args)
        started = time.perf_counter()
        result = generate(config, n_threads=args.n_threads, show_progress=not args.no_progress)
    except (ConfigError, TaxonomyError, LMSpecError, ModelFileError, ProgramLoadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished units are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    data = result.data
    elapsed = time.perf_counter() - started
    usage = data.usage
    print(
        f"{len(data.rows)} posts kept, {len(data.rejects)} rejected, {usage['duplicates_removed']} duplicates removed, "
        f"{usage['failed_units']} failed units; {usage['calls']} LM calls, {usage['prompt_tokens']} prompt + "
        f"{usage['completion_tokens']} completion tokens; {elapsed:.0f} s"
    )
    print(f"data set: {result.folder}/data.parquet (card: {result.folder}/README.md)")
    if usage["failed_units"]:
        print(f"{usage['failed_units']} units failed after retries (see {result.folder}/usage.json); rerun the same command to retry them.", file=sys.stderr)
    return 0
