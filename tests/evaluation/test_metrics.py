"""Metrics against values computed by hand, and against scikit-learn where it defines the same thing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score

from synsym.evaluation.metrics import (
    bootstrap_macro_f1,
    macro_f1,
    micro_f1,
    per_label_scores,
    score_predictions,
    select_labels,
    summarize,
)

# Label 0: TP 1, FP 1, FN 1. Label 1: TP 2. Label 2: no positive post, one false positive.
Y_TRUE = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
Y_PRED = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0]])


def test_per_label_scores_match_hand_counts():
    scores = per_label_scores(Y_TRUE, Y_PRED)

    assert scores["precision"].tolist() == [0.5, 1.0, 0.0]
    assert scores["recall"].tolist() == [0.5, 1.0, 0.0]
    assert scores["f1"].tolist() == [0.5, 1.0, 0.0]
    assert scores["support"].tolist() == [2, 2, 0]


def test_macro_f1_support_policy_skips_label_without_posts():
    assert macro_f1(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    assert macro_f1(Y_TRUE, Y_PRED) == pytest.approx(
        f1_score(Y_TRUE, Y_PRED, average="macro", labels=[0, 1], zero_division=0)
    )


def test_macro_f1_all_policy_counts_every_label():
    assert macro_f1(Y_TRUE, Y_PRED, labels="all") == pytest.approx(0.5)
    assert macro_f1(Y_TRUE, Y_PRED, labels="all") == pytest.approx(
        f1_score(Y_TRUE, Y_PRED, average="macro", zero_division=0)
    )


def test_micro_f1_pools_counts_of_included_labels():
    # support: TP 3, FP 1, FN 1 -> 6 / 8. all: the extra false positive of label 2 -> 6 / 9.
    assert micro_f1(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    assert micro_f1(Y_TRUE, Y_PRED, labels="all") == pytest.approx(6 / 9)
    assert micro_f1(Y_TRUE, Y_PRED, labels="all") == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="micro"))


def test_macro_f1_absent_label_uses_zero_division():
    y_true = np.array([[1, 0], [0, 0]])
    y_pred = np.array([[1, 0], [0, 0]])

    assert macro_f1(y_true, y_pred, labels="all", zero_division=0.0) == pytest.approx(0.5)
    assert macro_f1(y_true, y_pred, labels="all", zero_division=1.0) == pytest.approx(1.0)
    assert macro_f1(y_true, y_pred, labels="support") == pytest.approx(1.0)


def test_macro_f1_without_any_positive_post_is_nan():
    assert math.isnan(macro_f1(np.zeros((3, 2)), np.zeros((3, 2))))


def test_select_labels_rejects_unknown_policy():
    with pytest.raises(ValueError, match="'some'"):
        select_labels(Y_TRUE, "some")


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        macro_f1(Y_TRUE, Y_PRED[:2])


def test_score_predictions_names_labels_and_averaged_set():
    scores = score_predictions(Y_TRUE, Y_PRED, ["a", "b", "c"])

    assert scores["labels_averaged"] == ["a", "b"]
    assert scores["per_label"]["b"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert scores["macro_f1"] == pytest.approx(0.75)


def test_bootstrap_of_perfect_predictions_is_a_point():
    assert bootstrap_macro_f1(Y_TRUE, Y_TRUE, n_resamples=200) == (1.0, 1.0)


def test_bootstrap_interval_brackets_estimate_and_repeats_with_seed():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, size=(300, 4))
    y_pred = np.where(rng.random((300, 4)) < 0.8, y_true, 1 - y_true)

    interval = bootstrap_macro_f1(y_true, y_pred, n_resamples=500, seed=7)
    estimate = macro_f1(y_true, y_pred)

    assert interval[0] < estimate < interval[1]
    assert interval[1] - interval[0] < 0.2
    assert bootstrap_macro_f1(y_true, y_pred, n_resamples=500, seed=7) == interval
    assert bootstrap_macro_f1(y_true, y_pred, n_resamples=500, seed=8) != interval


def test_bootstrap_over_seeds_averages_their_macro_f1():
    y_true = np.array([[1, 0], [0, 1]] * 20)
    perfect = y_true.copy()
    inverted = 1 - y_true

    # Every resample scores 1.0 for one seed and 0.0 for the other, so the mean is exactly 0.5.
    assert bootstrap_macro_f1(y_true, [perfect, inverted], n_resamples=100) == (0.5, 0.5)


def test_bootstrap_with_zero_resamples_returns_none():
    assert bootstrap_macro_f1(Y_TRUE, Y_PRED, n_resamples=0) is None


def test_summarize_uses_sample_standard_deviation():
    summary = summarize([0.5, 0.7])

    assert summary["mean"] == pytest.approx(0.6)
    assert summary["std"] == pytest.approx(math.sqrt(0.02))
    assert summary["n"] == 2
    assert summarize([0.4])["std"] == 0.0
