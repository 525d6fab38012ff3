"""Benchmark a fixed small generation run on a local model (not a test).

Prints posts kept per minute, LM calls, prompt and completion tokens, and how the wall
time splits between the LM and the pipeline's own work. The run uses a fresh temporary
folder and DSPy's cache switched off, so every LM call is made.

    python eval/benchmarks/generation_speed.py                 # embedded Qwen2.5-Coder-1.5B
    python eval/benchmarks/generation_speed.py --lm local:smollm2-135m-instruct-q4_1
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import dspy  # noqa: E402

from synsym.config import GenerationConfig  # noqa: E402
from synsym.lm import build_lm  # noqa: E402
from synsym.modules import SynSymProgram  # noqa: E402
from synsym.runner import FolderStore, run_generation  # noqa: E402

FIXED_RUN = {
    "symptoms": ["Depressed_Mood", "Sleep_disturbance", "Worthlessness_and_guilty", "Suicidal_ideas"],
    "sub_concepts_per_symptom": 2,
    "posts_per_unit": 2,
    "combinations": 3,
    "seed": 0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", default="local", help="local model spec (default: local, the embedded model)")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for the model (default: all cores)")
    args = parser.parse_args()

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    handle = build_lm(args.lm, n_threads=args.n_threads, cache=False)
    if handle.engine is None:
        raise SystemExit("this benchmark measures in-process models only; pass --lm local or local:NAME")

    # Load the weights before timing, so that the figures describe generation only.
    load_started = time.perf_counter()
    handle.engine._load()
    load_seconds = time.perf_counter() - load_started

    with tempfile.TemporaryDirectory() as folder:
        config = GenerationConfig(lm=args.lm, output=folder, **FIXED_RUN)
        started = time.perf_counter()
        data = run_generation(SynSymProgram(), config, FolderStore(folder), lm=handle.lm, lm_name=handle.name, is_local=True, show_progress=False)
        wall = time.perf_counter() - started

    stats = handle.engine.stats
    overhead = wall - stats.seconds
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; model {handle.name}; load {load_seconds:.1f} s (not counted)")
    print(f"run: {FIXED_RUN}")
    print(f"posts kept: {len(data.rows)}, rejected: {len(data.rejects)}, duplicates removed: {data.usage['duplicates_removed']}, failed units: {data.usage['failed_units']}")
    print(f"wall time: {wall:.1f} s; posts kept per minute: {len(data.rows) / wall * 60:.2f}")
    print(f"LM calls: {stats.calls}; prompt tokens: {stats.prompt_tokens}; completion tokens: {stats.completion_tokens}")
    print(f"time inside the LM: {stats.seconds:.1f} s; prompt+completion tokens per LM second: {(stats.prompt_tokens + stats.completion_tokens) / stats.seconds:.1f}")
    print(f"wall / LM time: {wall / stats.seconds:.4f}; pipeline overhead: {overhead:.2f} s ({overhead / wall:.2%} of wall time)")


if __name__ == "__main__":
    main()
