"""The shared multi-label classifier contract: probabilities, thresholds and label checks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np
from sklearn.base import BaseEstimator

from synsym.evaluation.metrics import per_label_scores

logger = logging.getLogger(__name__)

Threshold = float | Literal["tuned"]

# Candidate decision thresholds for `threshold="tuned"`: 0.05 to 0.95 in steps of 0.05.
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)


class ClassifierError(ValueError):
    """A classifier name, parameter or input that cannot be used."""


def validate_threshold(threshold: object) -> Threshold:
    """Return `threshold` if it is a probability in (0, 1) or "tuned", else raise ClassifierError."""
    if threshold == "tuned":
        return "tuned"
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and 0.0 < float(threshold) < 1.0:
        return float(threshold)
    raise ClassifierError(f"threshold {threshold!r} is invalid; use a probability between 0 and 1 or 'tuned'")


def validate_label_matrix(texts: Sequence[str], label_matrix: object) -> np.ndarray:
    """Return `label_matrix` as a 0/1 int array with one row per text, or raise ClassifierError."""
    matrix = np.asarray(label_matrix)
    if matrix.ndim != 2:
        raise ClassifierError(f"the label matrix must be 2-D (n_posts, n_labels), got shape {matrix.shape}")
    if len(texts) != matrix.shape[0]:
        raise ClassifierError(f"{len(texts)} texts but {matrix.shape[0]} label rows; pass one row per text")
    if len(texts) == 0:
        raise ClassifierError("no training posts: pass at least one text")
    if not np.isin(matrix, (0, 1)).all():
        raise ClassifierError("the label matrix must contain only 0 and 1")
    return matrix.astype(int)


def validate_sample_weight(sample_weight: object, n_posts: int) -> np.ndarray | None:
    """Return the weights as a float array of length `n_posts`, or None; raise on negative or wrong length."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=float)
    if weights.shape != (n_posts,):
        raise ClassifierError(f"sample_weight must have one value per post ({n_posts}), got shape {weights.shape}")
    if np.any(weights < 0):
        raise ClassifierError("sample_weight must not contain negative values")
    return weights


def tune_thresholds(y_true: np.ndarray, probabilities: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Pick, per label, the grid threshold with the highest F1 on held-out predictions.

    A label with no positive post in `y_true` keeps `default`, because F1 cannot rank
    thresholds for it. Ties go to the threshold closest to `default`.
    """
    y_true = np.asarray(y_true).astype(bool)
    thresholds = np.full(y_true.shape[1], default)
    order = np.argsort(np.abs(THRESHOLD_GRID - default), kind="stable")
    for label in range(y_true.shape[1]):
        if not y_true[:, label].any():
            continue
        column_truth = y_true[:, [label]]
        scores = [
            per_label_scores(column_truth, probabilities[:, [label]] >= THRESHOLD_GRID[index])["f1"][0]
            for index in order
        ]
        thresholds[label] = THRESHOLD_GRID[order[int(np.argmax(scores))]]
    return thresholds


class MultiLabelClassifier(BaseEstimator):
    """Base of the synsym classifiers: scikit-learn estimators over raw texts and a 0/1 label matrix.

    Subclasses implement `fit(texts, Y, sample_weight=None)` and `predict_proba(texts)`,
    and set `thresholds_` in `fit`. `__init__` only stores parameters.
    """

    # True where `continue_fit` trains the fitted model further on new posts.
    supports_continued_training: ClassVar[bool] = False

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Return the (n_posts, n_labels) 0/1 predictions: probability >= the label's threshold."""
        self._check_fitted()
        probabilities = self.predict_proba(texts)
        return (probabilities >= self.thresholds_).astype(int)

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise ClassifierError(f"{type(self).__name__} is not fitted yet; call fit(texts, Y) first")

    def _initial_thresholds(self, n_labels: int) -> np.ndarray:
        threshold = validate_threshold(self.threshold)
        return np.full(n_labels, 0.5 if threshold == "tuned" else threshold)
