"""`synsym optimize` and the use of its program by `synsym generate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synsym.cli import main
from synsym.config import GenerationConfig
from synsym.generation import generate
from synsym.lm import LMHandle
from synsym.optimization.scripted import ScriptedLM

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_RECIPE = REPO_ROOT / "optimizers" / "demo-dummy.toml"
DEMO_GOLD = REPO_ROOT / "eval" / "gold" / "demo.jsonl"


def _cli_args(tmp_path, *extra: str) -> list[str]:
    return [
        "optimize", str(DEMO_RECIPE), "--output-dir", str(tmp_path / "programs"), "--work-dir", str(tmp_path / "work"),
        "--gold", str(DEMO_GOLD), *extra,
    ]


def test_optimize_cli_writes_program(tmp_path, capsys):
    code = main(_cli_args(tmp_path))

    assert code == 0
    output = capsys.readouterr()
    assert "held-out macro-F1" in output.out
    assert "evaluation 1: macro-F1" in output.err
    assert (tmp_path / "programs" / "demo-dummy.json").is_file()
    assert (tmp_path / "programs" / "demo-dummy.manifest.json").is_file()


def test_optimize_dry_run_calls_no_lm(tmp_path, capsys):
    code = main(_cli_args(tmp_path, "--dry-run"))

    assert code == 0
    assert "group 0: Depressed_Mood" in capsys.readouterr().out
    assert not (tmp_path / "programs").exists()


def test_optimize_cli_reports_invalid_override(tmp_path, capsys):
    code = main(_cli_args(tmp_path, "--gold-sample", "3"))

    assert code == 2
    err = capsys.readouterr().err
    assert "gold.sample" in err
    assert "value: 3" in err


def test_optimize_cli_reports_missing_gold(tmp_path, capsys):
    code = main(["optimize", str(DEMO_RECIPE), "--work-dir", str(tmp_path / "work"), "--gold", str(tmp_path / "absent.csv")])

    assert code == 2
    assert "absent.csv" in capsys.readouterr().err


@pytest.fixture
def optimized_program(tmp_path):
    assert main(_cli_args(tmp_path, "--no-progress")) == 0
    return tmp_path / "programs" / "demo-dummy.json"


def test_saved_program_generates_data(optimized_program, tmp_path):
    manifest = json.loads(optimized_program.with_name("demo-dummy.manifest.json").read_text())
    config = GenerationConfig(
        program=str(optimized_program), symptoms=["Depressed_Mood", "Pessimism"], sub_concepts_per_symptom=1,
        posts_per_unit=1, combinations=1, output=str(tmp_path / "run"),
    )
    handle = LMHandle(lm=ScriptedLM(), spec="dummy", name="dummy", fingerprint="dummy", is_local=True)

    result = generate(config, lm=handle, show_progress=False)

    assert result.data.rows
    assert {row["program_fingerprint"] for row in result.data.rows} == {manifest["program_fingerprint"]["after"]}


def test_generate_rejects_program_for_other_signatures(optimized_program, tmp_path, capsys):
    payload = json.loads(optimized_program.read_text())
    payload["signatures"]["writer.predict"]["outputs"] = ["tweets"]
    optimized_program.write_text(json.dumps(payload))

    code = main(["generate", "--program", str(optimized_program), "--output", str(tmp_path / "run"), "--no-progress"])

    assert code == 2
    err = capsys.readouterr().err
    assert "made for other signatures" in err
    assert "writer.predict" in err


def test_optimize_rejects_starting_program_for_other_signatures(optimized_program, tmp_path, capsys):
    payload = json.loads(optimized_program.read_text())
    payload["signatures"]["judge.predict"]["inputs"] = ["text"]
    optimized_program.write_text(json.dumps(payload))
    recipe = tmp_path / "from-program.toml"
    recipe.write_text(DEMO_RECIPE.read_text().replace('name = "demo-dummy"', f'name = "from-program"\nprogram = "{optimized_program}"'))

    code = main(["optimize", str(recipe), "--work-dir", str(tmp_path / "work2"), "--gold", str(DEMO_GOLD)])

    assert code == 2
    assert "made for other signatures" in capsys.readouterr().err
