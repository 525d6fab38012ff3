"""`synsym evaluate` end to end on a tiny self-written run folder and test file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from symptom_posts import TEST_PHRASES, TRAIN_PHRASES, write_labelled_csv, write_run_folder

from synsym.cli import main


@pytest.fixture()
def data(tmp_path):
    run = write_run_folder(tmp_path / "run", TRAIN_PHRASES)
    test = write_labelled_csv(tmp_path / "test.csv", TEST_PHRASES, repeat=3)
    return run, test, tmp_path


def test_cli_evaluate_writes_report(data, capsys):
    run, test, folder = data
    code = main(
        [
            "evaluate",
            "--train", str(run),
            "--test", str(test),
            "--regimes", "synthetic,real,synthetic_then_real",
            "--folds", "2",
            "--seeds", "0,1",
            "--bootstrap", "50",
            "--output", str(folder / "report"),
        ]
    )  # fmt: skip

    assert code == 0
    report = json.loads((folder / "report" / "report.json").read_text(encoding="utf-8"))
    assert list(report["regimes"]) == ["synthetic", "real", "synthetic_then_real"]
    assert report["regimes"]["synthetic"]["macro_f1"]["mean"] >= 0.8
    assert (folder / "report" / "per_label_f1.png").is_file()
    assert "synthetic: macro-F1" in capsys.readouterr().out


def test_cli_evaluate_runs_recipe_with_override(data):
    run, test, folder = data
    recipe = folder / "recipe.toml"
    recipe.write_text(
        f'train = ["{run}"]\ntest = "{test}"\nclassifier = "tfidf"\nregimes = ["synthetic"]\n'
        f'seeds = [0]\nbootstrap = 20\noutput = "{folder / "from-recipe"}"\n'
        "[classifier_params]\nC = 2.0\n",
        encoding="utf-8",
    )

    code = main(["evaluate", "--recipe", str(recipe), "--threshold", "tuned", "--output", str(folder / "override")])

    assert code == 0
    report = json.loads((folder / "override" / "report.json").read_text(encoding="utf-8"))
    assert report["config"]["threshold"] == "tuned"
    assert report["config"]["classifier_params"] == {"C": 2.0}
    assert not (folder / "from-recipe").exists()


def test_cli_evaluate_reports_missing_training_set(data, capsys):
    _, test, folder = data

    code = main(["evaluate", "--test", str(test), "--output", str(folder / "none")])

    assert code == 2
    assert "need a synthetic" in capsys.readouterr().err


def test_cli_evaluate_rejects_invalid_threshold(data, capsys):
    run, test, folder = data

    code = main(["evaluate", "--train", str(run), "--test", str(test), "--threshold", "high"])

    assert code == 2
    assert "--threshold 'high' is invalid" in capsys.readouterr().err


def test_cli_evaluate_help_states_defaults():
    completed = subprocess.run(
        [sys.executable, "-m", "synsym", "evaluate", "--help"], capture_output=True, text=True, check=True
    )

    for option in ("--train", "--real-train", "--test", "--view", "--classifier", "--regimes", "--seeds",
                   "--folds", "--bootstrap", "--threshold", "--output", "--base-model", "--recipe"):  # fmt: skip
        assert option in completed.stdout
    assert "(default: 1000)" in completed.stdout
