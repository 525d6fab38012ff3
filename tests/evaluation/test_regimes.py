"""Training regimes with real classifiers on self-written posts."""

from __future__ import annotations

import numpy as np
import pytest
from symptom_posts import APPETITE, LABELS, PESSIMISM, TEST_PHRASES, TRAIN_PHRASES, labelled_set

from synsym.evaluation.regimes import RegimeError, RegimeSettings, label_matrix_in, run_regimes

# The synthetic set never mentions pessimism, so only regimes with real posts can learn it.
SYNTHETIC_PHRASES = {label: phrases for label, phrases in TRAIN_PHRASES.items() if label != PESSIMISM}
SYNTHETIC = labelled_set(SYNTHETIC_PHRASES, "synthetic")
REAL_TRAIN = labelled_set(TRAIN_PHRASES, "real train")
TEST = labelled_set(TEST_PHRASES, "test", repeat=3)

FAST = RegimeSettings(classifier="tfidf", seeds=(0,), bootstrap=100)


def test_synthetic_regime_cannot_learn_missing_label():
    result = run_regimes(TEST, ["synthetic"], FAST, synthetic=SYNTHETIC)["synthetic"]

    assert result["per_label"][PESSIMISM]["f1"] == 0.0
    assert result["per_label"][APPETITE]["f1"] > 0.5


def test_real_regimes_learn_missing_label():
    results = run_regimes(TEST, ["real", "synthetic_then_real"], FAST, synthetic=SYNTHETIC, real_train=REAL_TRAIN)

    assert results["real"]["per_label"][PESSIMISM]["f1"] > 0.5
    assert results["synthetic_then_real"]["per_label"][PESSIMISM]["f1"] > 0.5
    assert results["synthetic_then_real"]["runs"][0]["n_train_synthetic"] == len(SYNTHETIC.texts)
    assert results["synthetic_then_real"]["runs"][0]["n_train_real"] == len(REAL_TRAIN.texts)


def test_cross_validation_runs_every_seed_and_fold():
    settings = RegimeSettings(classifier="tfidf", seeds=(0, 1), folds=3, bootstrap=50)
    result = run_regimes(TEST, ["real"], settings)["real"]

    assert [(run["seed"], run["fold"]) for run in result["runs"]] == [(s, f) for s in (0, 1) for f in range(3)]
    assert sum(run["n_test"] for run in result["runs"]) == 2 * len(TEST.texts)
    assert result["macro_f1"]["n"] == 6
    assert sum(item["support"] for item in result["per_label"].values()) == len(TEST.texts)


def test_regime_summary_has_interval_around_pooled_score():
    result = run_regimes(TEST, ["synthetic"], FAST, synthetic=SYNTHETIC)["synthetic"]

    low, high = result["macro_f1_ci95"]
    assert low <= result["macro_f1_pooled"] <= high
    assert result["labels_averaged"] == LABELS


@pytest.mark.slow
def test_finetune_synthetic_then_real_continues_training():
    settings = RegimeSettings(
        classifier="finetune",
        classifier_params={"max_length": 24, "batch_size": 8, "max_epochs": 1},
        seeds=(0,),
        bootstrap=0,
    )
    result = run_regimes(TEST, ["synthetic_then_real"], settings, synthetic=SYNTHETIC, real_train=REAL_TRAIN)

    run = result["synthetic_then_real"]["runs"][0]
    assert run["n_train_real"] == len(REAL_TRAIN.texts)
    assert result["synthetic_then_real"]["macro_f1_ci95"] is None


def test_regimes_reject_missing_synthetic_set():
    with pytest.raises(RegimeError, match="need a synthetic"):
        run_regimes(TEST, ["synthetic"], FAST)


def test_regimes_reject_real_regime_without_real_posts():
    with pytest.raises(RegimeError, match="need real training posts"):
        run_regimes(TEST, ["real"], FAST, synthetic=SYNTHETIC)


def test_regimes_reject_folds_with_real_training_set():
    settings = RegimeSettings(classifier="tfidf", folds=3)

    with pytest.raises(RegimeError, match="drop the real training set"):
        run_regimes(TEST, ["real"], settings, real_train=REAL_TRAIN)


def test_regimes_reject_unknown_regime():
    with pytest.raises(RegimeError, match="synthetic, real, synthetic_then_real"):
        run_regimes(TEST, ["mixed"], FAST, synthetic=SYNTHETIC)


def test_label_matrix_in_drops_labels_outside_space():
    matrix = label_matrix_in(REAL_TRAIN, [APPETITE, "Suicidal_ideas"])

    assert matrix.shape == (len(REAL_TRAIN.texts), 2)
    assert matrix[:, 0].sum() == len(TRAIN_PHRASES[APPETITE])
    assert matrix[:, 1].sum() == 0
    assert np.all(matrix.sum(axis=1) <= 1)
