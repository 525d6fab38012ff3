"""Multi-label metrics: macro-F1 (the headline), micro-F1, per-label scores, bootstrap intervals.

Which labels count. By default (`labels="support"`) macro-F1 and micro-F1 average over
the labels that have at least one positive post in the test set, so a label the test set
never mentions neither helps nor hurts. With `labels="all"` every label of the label space
counts. A label with no positive post and no positive prediction then scores
`zero_division` (0.0 by default), which pulls macro-F1 down.

Undefined ratios follow scikit-learn's `zero_division`: precision with no positive
prediction, recall with no positive post, and F1 with neither (2·TP + FP + FN = 0) take the
value `zero_division`. F1 is 2·TP / (2·TP + FP + FN), the same as scikit-learn >= 1.3.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np

logger = logging.getLogger(__name__)

LabelPolicy = Literal["support", "all"]


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    if y_true.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be 0/1 matrices of the same shape (n_posts, n_labels); "
            f"got {y_true.shape} and {y_pred.shape}"
        )
    return y_true, y_pred


def select_labels(y_true: np.ndarray, policy: LabelPolicy = "support") -> np.ndarray:
    """Return the indices of the labels that macro- and micro-averages include under `policy`."""
    y_true = np.asarray(y_true).astype(bool)
    if policy == "all":
        return np.arange(y_true.shape[1])
    if policy == "support":
        return np.flatnonzero(y_true.sum(axis=0) > 0)
    raise ValueError(f"label policy {policy!r} is invalid; use 'support' or 'all'")


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    result = np.full(np.broadcast(numerator, denominator).shape, float(zero_division))
    np.divide(numerator, denominator, out=result, where=denominator > 0)
    return result


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per-label true positives, false positives and false negatives."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    tp = (y_true & y_pred).sum(axis=0)
    fp = (~y_true & y_pred).sum(axis=0)
    fn = (y_true & ~y_pred).sum(axis=0)
    return tp, fp, fn


def per_label_scores(y_true: np.ndarray, y_pred: np.ndarray, zero_division: float = 0.0) -> dict[str, np.ndarray]:
    """Return per-label precision, recall, F1 and support (number of positive posts) as arrays."""
    tp, fp, fn = confusion_counts(y_true, y_pred)
    return {
        "precision": _safe_ratio(tp, tp + fp, zero_division),
        "recall": _safe_ratio(tp, tp + fn, zero_division),
        "f1": _safe_ratio(2 * tp, 2 * tp + fp + fn, zero_division),
        "support": (tp + fn).astype(int),
    }


def macro_f1(
    y_true: np.ndarray, y_pred: np.ndarray, labels: LabelPolicy = "support", zero_division: float = 0.0
) -> float:
    """Return the unweighted mean of per-label F1 over the labels that `labels` selects.

    Returns `nan` when no label is selected (a test set without any positive post under
    the default policy).
    """
    included = select_labels(y_true, labels)
    if len(included) == 0:
        return float("nan")
    return float(per_label_scores(y_true, y_pred, zero_division)["f1"][included].mean())


def micro_f1(
    y_true: np.ndarray, y_pred: np.ndarray, labels: LabelPolicy = "support", zero_division: float = 0.0
) -> float:
    """Return F1 over the counts pooled across the labels that `labels` selects."""
    included = select_labels(y_true, labels)
    tp, fp, fn = (counts[included].sum() for counts in confusion_counts(y_true, y_pred))
    return float(_safe_ratio(2 * tp, 2 * tp + fp + fn, zero_division))


def bootstrap_macro_f1(
    y_true: np.ndarray,
    y_preds: Sequence[np.ndarray] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    labels: LabelPolicy = "support",
    zero_division: float = 0.0,
    confidence: float = 0.95,
) -> tuple[float, float] | None:
    """Return a percentile bootstrap interval for macro-F1 by resampling posts with replacement.

    Args:
        y_true: (n_posts, n_labels) truth.
        y_preds: one (n_posts, n_labels) prediction matrix, or several (one per seed) over the
            same posts. With several, each resample scores the seed-averaged macro-F1, so the
            interval covers test-set sampling, not seed variation.
        n_resamples: number of bootstrap resamples; 0 returns None.
        seed: seed of the resampling, so a rerun gives the same interval.
        labels: label policy; with "support", each resample averages over the labels that
            have a positive post in that resample.
        zero_division: value of an undefined F1.
        confidence: the interval's coverage, 0.95 for a 95% interval.

    Returns:
        (lower, upper), or None when `n_resamples` is 0 or there are no posts.
    """
    y_true = np.asarray(y_true).astype(bool)
    stacked = np.asarray(y_preds).astype(bool)
    if stacked.ndim == 2:
        stacked = stacked[None]
    for prediction in stacked:
        _check_pair(y_true, prediction)
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be 0 or more, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    n_posts = len(y_true)
    if n_resamples == 0 or n_posts == 0:
        return None

    # A resample is a vector of post counts; per-label TP/FP/FN are then one matrix product.
    tp_posts = np.stack([y_true & p for p in stacked]).astype(np.float32)
    fp_posts = np.stack([~y_true & p for p in stacked]).astype(np.float32)
    fn_posts = np.stack([y_true & ~p for p in stacked]).astype(np.float32)
    truth = y_true.astype(np.float32)
    rng = np.random.default_rng(seed)
    scores = np.empty(n_resamples)
    chunk = 200
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = rng.integers(0, n_posts, size=(size, n_posts))
        counts = np.stack([np.bincount(row, minlength=n_posts) for row in draws]).astype(np.float32)

        support = counts @ truth
        included = support > 0 if labels == "support" else np.ones_like(support, dtype=bool)
        seed_scores = []
        for tp_matrix, fp_matrix, fn_matrix in zip(tp_posts, fp_posts, fn_posts):
            tp, fp, fn = counts @ tp_matrix, counts @ fp_matrix, counts @ fn_matrix
            f1 = _safe_ratio(2 * tp, 2 * tp + fp + fn, zero_division)
            with np.errstate(invalid="ignore"):
                seed_scores.append((f1 * included).sum(axis=1) / included.sum(axis=1))
        scores[start : start + size] = np.mean(seed_scores, axis=0)

    scores = scores[~np.isnan(scores)]
    if len(scores) == 0:
        return None
    tail = (1.0 - confidence) / 2 * 100
    return float(np.percentile(scores, tail)), float(np.percentile(scores, 100 - tail))


def summarize(values: Sequence[float]) -> dict[str, float | int | list[float]]:
    """Return mean, sample standard deviation (ddof=1; 0.0 for a single value), count and the values."""
    array = np.asarray(list(values), dtype=float)
    if len(array) == 0:
        return {"mean": float("nan"), "std": float("nan"), "n": 0, "values": []}
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return {"mean": float(array.mean()), "std": std, "n": int(len(array)), "values": [float(v) for v in array]}


def score_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    label_names: Sequence[str],
    labels: LabelPolicy = "support",
    zero_division: float = 0.0,
) -> dict[str, object]:
    """Score one prediction matrix: macro-F1, micro-F1, per-label scores and the labels averaged.

    Returns:
        {"macro_f1", "micro_f1", "labels_averaged": [names], "per_label": {name: {precision,
        recall, f1, support}}}.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if y_true.shape[1] != len(label_names):
        raise ValueError(f"{len(label_names)} label names given for a matrix with {y_true.shape[1]} labels")
    scores = per_label_scores(y_true, y_pred, zero_division)
    included = select_labels(y_true, labels)
    per_label = {
        name: {
            "precision": float(scores["precision"][index]),
            "recall": float(scores["recall"][index]),
            "f1": float(scores["f1"][index]),
            "support": int(scores["support"][index]),
        }
        for index, name in enumerate(label_names)
    }
    return {
        "macro_f1": macro_f1(y_true, y_pred, labels, zero_division),
        "micro_f1": micro_f1(y_true, y_pred, labels, zero_division),
        "labels_averaged": [label_names[index] for index in included],
        "per_label": per_label,
    }
