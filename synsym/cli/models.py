"""`synsym models`: list the local models and verify their files."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list local models and verify their files",
        description="List the local GGUF models synsym knows, where their files are, and whether their size and SHA-256 check out.",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip re-hashing the model files (about 3 s per GB)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from synsym.lm.models import describe_models

    records = describe_models(verify=not args.no_verify)
    failures = 0
    for record in records:
        print(f"local:{record['name']}")
        print(f"  {record['description']}")
        print(f"  status: {record['status']}")
        if record["path"]:
            print(f"  path:   {record['path']}")
        if record["sha256"]:
            print(f"  sha256: {record['sha256']}")
        failures += record["status"].startswith("unavailable") and "sha" in record["status"].lower()
    return 1 if failures else 0
