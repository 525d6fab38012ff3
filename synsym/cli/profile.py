"""`synsym profile`: describe a generated run or labelled set, or compare several side by side."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from synsym.evaluation.data import FORMATS, DataFormatError
from synsym.evaluation.profile import (
    DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    DEFAULT_SAMPLE_SIZE,
    DEFAULT_SEED,
    format_comparison,
    profile_path,
    write_profile,
)
from synsym.taxonomy import TaxonomyError

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `profile` subcommand."""
    parser = subparsers.add_parser(
        "profile",
        help="profile a run or labelled set: label balance, length, diversity, near duplicates",
        description=(
            "Profile a generated run folder or a labelled-set file: posts per symptom, style and kind, "
            "labels per post, length in words, distinct-1/2, exact duplicates, and embedding similarity "
            "and near-duplicate rate over a fixed-seed sample. With --compare, print the data sets side by side."
        ),
    )

    parser.add_argument("path", metavar="RUN_OR_FILE", help="a run folder or a labelled-set file")
    parser.add_argument(
        "--compare", nargs="+", default=[], metavar="PATH", help="further runs or files to show side by side"
    )
    parser.add_argument(
        "--format", default="auto", choices=["auto", *FORMATS], help="input format of every path (default: auto)"
    )
    parser.add_argument("--taxonomy", default=None, help="taxonomy name or file (default: depression14)")

    parser.add_argument(
        "--output", metavar="DIR", help="write <name>.json and <name>.md per data set (and comparison.md) here"
    )

    parser.add_argument(
        "--sample-size",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help=f"posts sampled for the embedding figures (default: {DEFAULT_SAMPLE_SIZE})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of that sample (default: {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--near-duplicate-threshold",
        type=float,
        default=DEFAULT_NEAR_DUPLICATE_THRESHOLD,
        help=(
            "cosine at or above which a nearest neighbour counts as a near duplicate "
            f"(default: {DEFAULT_NEAR_DUPLICATE_THRESHOLD})"
        ),
    )
    parser.add_argument(
        "--no-embeddings", action="store_true", help="skip the embedding figures (no model is loaded)"
    )

    parser.set_defaults(handler=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    """Profile each path, print one table and write the reports. Returns the exit code."""
    paths = [Path(args.path), *(Path(path) for path in args.compare)]
    names = _unique_names(paths)

    profiles = []
    for path in paths:
        try:
            profile = profile_path(
                path,
                args.format,
                args.taxonomy,
                embeddings=not args.no_embeddings,
                sample_size=args.sample_size,
                seed=args.seed,
                near_duplicate_threshold=args.near_duplicate_threshold,
            )
        except (DataFormatError, TaxonomyError, ValueError) as error:
            print(f"synsym profile: {error}", file=sys.stderr)
            return 1
        profiles.append(profile)

    print(format_comparison(profiles, names), end="")

    if args.output:
        output = Path(args.output)
        for profile, name in zip(profiles, names, strict=True):
            json_path, markdown_path = write_profile(profile, output, name)
            logger.info("wrote %s and %s", json_path, markdown_path)
        if len(profiles) > 1:
            comparison = "# Data-set comparison\n\n" + format_comparison(profiles, names, markdown=True)
            (output / "comparison.md").write_text(comparison, encoding="utf-8")
        print(f"wrote profiles to {output}")
    return 0


def _unique_names(paths: list[Path]) -> list[str]:
    """Name each data set after its folder or file stem, numbering repeats."""
    names: list[str] = []
    for path in paths:
        stem = path.name if path.is_dir() else path.stem
        if stem == "data" and not path.is_dir():
            stem = path.parent.name
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "dataset"
        name, counter = base, 2
        while name in names:
            name, counter = f"{base}-{counter}", counter + 1
        names.append(name)
    return names

