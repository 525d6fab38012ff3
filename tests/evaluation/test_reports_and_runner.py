"""Reports written from a real evaluation, the optimiser's scorer, recipes and the reference set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from symptom_posts import LABELS, TEST_PHRASES, TRAIN_PHRASES, labelled_set, write_run_folder

from synsym.evaluation.data import load_labelled_set
from synsym.evaluation.reports import write_report
from synsym.evaluation.runner import (
    EvaluationError,
    evaluate_generated,
    load_recipe,
    parse_config,
    reference_set_path,
    run_evaluation,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = Path(os.environ.get("SYNSYM_REFERENCE_DIR", REPO_ROOT.parent / "shared/data/synsym-reference"))
SYNTHETIC = labelled_set(TRAIN_PHRASES, "synthetic")
TEST = labelled_set(TEST_PHRASES, "test", repeat=3)


@pytest.fixture(scope="module")
def report() -> dict:
    config = parse_config({"regimes": ["synthetic", "real"], "folds": 2, "seeds": [0, 1], "bootstrap": 100})
    return run_evaluation(config, synthetic=SYNTHETIC, test=TEST)


def test_report_json_round_trips(report, tmp_path):
    paths = write_report(report, tmp_path / "report")
    loaded = json.loads(paths["json"].read_text(encoding="utf-8"))

    assert set(loaded["regimes"]) == {"synthetic", "real"}
    assert loaded["label_names"] == LABELS
    assert loaded["regimes"]["real"]["macro_f1"]["n"] == 4
    assert loaded["config"]["folds"] == 2
    assert loaded["data"]["test"]["n_posts"] == len(TEST.texts)


def test_report_markdown_lists_regimes_and_symptoms(report, tmp_path):
    text = write_report(report, tmp_path)["markdown"].read_text(encoding="utf-8")

    assert "| synthetic |" in text
    assert "| real |" in text
    for label in LABELS:
        assert f"| {label} |" in text
    assert "not a clinical instrument" in text


def test_report_chart_is_a_png_image(report, tmp_path):
    chart = write_report(report, tmp_path)["chart"]
    image = matplotlib.image.imread(chart)

    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.shape[0] > 300
    assert image.shape[1] > 800


def test_evaluate_generated_scores_run_folder(tmp_path):
    run = write_run_folder(tmp_path / "run", TRAIN_PHRASES)
    gold = labelled_set(TEST_PHRASES, "gold")

    scores = evaluate_generated(run, gold, bootstrap=50)

    assert 0.8 <= scores["macro_f1"] <= 1.0
    assert scores["n_train"] == sum(len(phrases) for phrases in TRAIN_PHRASES.values())
    assert scores["n_test"] == len(gold.texts)
    assert scores["macro_f1_ci95"][0] <= scores["macro_f1_ci95"][1]
    assert set(scores["per_label"]) == set(LABELS)


def test_evaluate_generated_rejects_unknown_classifier():
    with pytest.raises(EvaluationError, match="unknown classifier 'bert'"):
        evaluate_generated(SYNTHETIC, TEST, classifier="bert")


def test_evaluate_generated_scores_phq9_view(tmp_path):
    scores = evaluate_generated(SYNTHETIC, TEST, view="phq9", bootstrap=0)

    assert set(scores["per_label"]) >= {"PHQ3_Sleep", "PHQ4_Fatigue", "PHQ5_Appetite", "PHQ2_Depressed_mood"}
    assert scores["labels_averaged"] == ["PHQ2_Depressed_mood", "PHQ3_Sleep", "PHQ4_Fatigue", "PHQ5_Appetite"]


@pytest.mark.parametrize("name", ["tfidf", "embedding", "finetune"])
def test_shipped_recipe_parses(name):
    config = load_recipe(REPO_ROOT / "eval" / "recipes" / f"{name}.toml")

    assert config.classifier == name
    assert config.classifier_settings()


def test_config_rejects_unknown_setting():
    with pytest.raises(EvaluationError, match="epochs"):
        parse_config({"epochs": 3})


def test_config_rejects_parameter_of_other_classifier():
    config = parse_config({"classifier": "tfidf", "classifier_params": {"max_epochs": 2}})

    with pytest.raises(EvaluationError, match="has no parameter"):
        config.classifier_settings()


def test_reference_set_path_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNSYM_REFERENCE_DIR", str(tmp_path))
    with pytest.raises(EvaluationError, match="SYNSYM_REFERENCE_DIR"):
        reference_set_path()

    (tmp_path / "dev.csv").write_text("text,labels\n", encoding="utf-8")
    assert reference_set_path() == tmp_path / "dev.csv"


@pytest.mark.skipif(not (REFERENCE_DIR / "dev.csv").is_file(), reason="reference set not present")
def test_tfidf_learns_reference_sample():
    reference = load_labelled_set(REFERENCE_DIR / "dev.csv", duplicates="keep")
    order = np.random.default_rng(0).permutation(len(reference.texts))

    scores = evaluate_generated(reference.subset(order[:1500]), reference.subset(order[1500:2500]), bootstrap=100)

    assert scores["macro_f1"] > 0.7
    assert scores["macro_f1_ci95"][0] < scores["macro_f1"] < scores["macro_f1_ci95"][1]
