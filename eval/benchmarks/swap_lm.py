"""Run one saved program state on several LMs and print what changes (not a test).

Each LM generates the same small run with the same program file, seed and settings, into
OUTPUT/<n>-<lm>. The script prints a table with one row per LM: the program fingerprint
(the same prompts give the same value), the data fingerprint, LM calls, units that failed
after their retries, posts kept and rejected, and seconds spent in LM calls. The first kept
posts of each LM follow. The table also goes to OUTPUT/compare.md. Finished runs resume,
so a rerun makes no LM call.

    python eval/benchmarks/swap_lm.py --program programs/mipro-local-benchmark.json \\
        --lm local --lm openai/qwen2.5-coder-1.5b-instruct=http://127.0.0.1:8000/v1

An LM is a `synsym generate --lm` value; for a LiteLLM model on a server, append
`=API_BASE`. A server that needs no key still needs a placeholder such as
OPENAI_API_KEY=unused for LiteLLM's OpenAI client.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from synsym.config import ConfigError, GenerationConfig  # noqa: E402
from synsym.generation import generate  # noqa: E402
from synsym.lm import LMSpecError, ModelFileError  # noqa: E402

SMALL_RUN = {
    "symptoms": ["Sleep_disturbance", "Pessimism", "Decreased_energy_tiredness_fatigue"],
    "sub_concepts_per_symptom": 1,
    "posts_per_unit": 2,
    "combinations": 1,
    "seed": 0,
}


def parse_lm(value: str) -> tuple[str, str | None]:
    """Split `MODEL=API_BASE` into the model and its server address."""
    model, _, api_base = value.partition("=")
    return model, api_base or None


def slug(model: str) -> str:
    """Return `model` as a folder name: runs of other characters become one hyphen."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", model).strip("-")


def shorten(text: str, limit: int = 220) -> str:
    """Collapse white space in `text` and cut it to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_one(index: int, value: str, args: argparse.Namespace) -> dict:
    """Generate the small run with one LM and return its row of the comparison."""
    model, api_base = parse_lm(value)
    config = GenerationConfig(lm=model, api_base=api_base, program=args.program,
                              output=str(Path(args.output) / f"{index}-{slug(model)}"), **SMALL_RUN)
    try:
        result = generate(config, n_threads=args.n_threads, show_progress=False)
    except (ConfigError, LMSpecError, ModelFileError) as error:
        return {"lm": value, "error": str(error).splitlines()[0]}
    usage = result.data.usage
    return {
        "lm": value,
        "program": usage.get("program_fingerprint"),
        "data": result.data.fingerprint(),
        "calls": usage.get("calls"),
        "failed_units": usage.get("failed_units"),
        "kept": len(result.data.rows),
        "rejected": len(result.data.rejects),
        "lm_seconds": round(usage.get("lm_seconds", 0.0), 1),
        "posts": [(row["labels"], shorten(row["text"])) for row in result.data.rows[: args.show]],
    }


def render(rows: list[dict], program: str) -> str:
    """Format the comparison table and the first kept posts as Markdown."""
    lines = [f"Program: `{program}`; run: {SMALL_RUN}", "",
             "| LM | program fingerprint | data fingerprint | LM calls | failed units | kept | rejected | seconds in the LM |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| `{row['lm']}` | error: {row['error']} | | | | | | |")
            continue
        lines.append(f"| `{row['lm']}` | `{row['program']}` | `{row['data']}` | {row['calls']} | {row['failed_units']} "
                     f"| {row['kept']} | {row['rejected']} | {row['lm_seconds']} |")
    for row in rows:
        if row.get("posts"):
            lines += ["", f"First kept posts with `{row['lm']}`:", ""]
            lines += [f"- {', '.join(labels)}: \"{text}\"" for labels, text in row["posts"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", required=True, help="saved program state (JSON)")
    parser.add_argument("--lm", action="append", required=True, help="LM to run, MODEL or MODEL=API_BASE; repeat for each LM")
    parser.add_argument("--output", default="runs/benchmarks/swap-lm", help="parent folder of the runs (default: runs/benchmarks/swap-lm)")
    parser.add_argument("--show", type=int, default=3, help="kept posts to print per LM (default: 3)")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for a local model (default: all cores)")
    args = parser.parse_args()
    if len(args.lm) < 2:
        parser.error(f"give at least two --lm values to compare, got {args.lm}")
    rows = [run_one(index, value, args) for index, value in enumerate(args.lm, start=1)]
    report = render(rows, args.program)
    Path(args.output).mkdir(parents=True, exist_ok=True)
    (Path(args.output) / "compare.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
