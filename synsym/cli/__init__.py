"""The `synsym` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Each module defines `add_parser(subparsers)`, which registers one subcommand and sets
# `handler` on its parser to a function that takes the parsed arguments and returns an exit code.
COMMAND_MODULES = ("generate", "models", "evaluate", "profile", "optimize", "study")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="synsym",
        description="Generate labelled synthetic posts for psychiatric symptom identification (the SynSym method).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"synsym.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"synsym.cli.{name}":
                continue
            raise
        module.add_parser(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    """Log to stderr; quiet the chatty third-party loggers unless -vv is given."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbosity < 2:
        for name in ("LiteLLM", "litellm", "httpx", "dspy", "urllib3", "datasets", "filelock"):
            logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    # LiteLLM otherwise fetches its model price list over the network at import time.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
