"""Iterative stratification keeps every label's share in every fold."""

from __future__ import annotations

import numpy as np
import pytest

from synsym.evaluation.splits import iterative_kfold, iterative_train_test_split, stratify_multilabel


def _random_multilabel(n_posts: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frequencies = np.array([0.5, 0.3, 0.15, 0.08, 0.04, 0.02])
    return (rng.random((n_posts, len(frequencies))) < frequencies).astype(int)


def _label_deviation(label_matrix: np.ndarray, assignment: np.ndarray, n_folds: int) -> float:
    """Sum over folds and labels of |positives in fold - expected positives|."""
    expected = label_matrix.sum(axis=0) / n_folds
    return sum(np.abs(label_matrix[assignment == fold].sum(axis=0) - expected).sum() for fold in range(n_folds))


def test_kfold_partitions_every_post_once():
    label_matrix = _random_multilabel()
    test_parts = [test for _, test in iterative_kfold(label_matrix, 5, seed=1)]

    assert sorted(np.concatenate(test_parts).tolist()) == list(range(len(label_matrix)))
    for train, test in iterative_kfold(label_matrix, 5, seed=1):
        assert not set(train) & set(test)


def test_kfold_spreads_rare_label_one_per_fold():
    label_matrix = np.zeros((50, 2), dtype=int)
    label_matrix[:5, 0] = 1
    label_matrix[5:30, 1] = 1

    for _, test in iterative_kfold(label_matrix, 5, seed=0):
        assert label_matrix[test, 0].sum() == 1
        assert label_matrix[test, 1].sum() == 5


def test_kfold_keeps_label_proportions_within_two_posts():
    label_matrix = _random_multilabel()
    assignment = stratify_multilabel(label_matrix, [1.0] * 5, seed=0)
    expected = label_matrix.sum(axis=0) / 5

    for fold in range(5):
        counts = label_matrix[assignment == fold].sum(axis=0)
        assert np.all(np.abs(counts - expected) <= 2), (fold, counts, expected)


def test_kfold_deviates_less_than_random_folds():
    label_matrix = _random_multilabel(seed=4)
    stratified = stratify_multilabel(label_matrix, [1.0] * 5, seed=0)
    random_folds = np.random.default_rng(0).permutation(np.arange(len(label_matrix)) % 5)

    assert _label_deviation(label_matrix, stratified, 5) < _label_deviation(label_matrix, random_folds, 5) / 2


def test_kfold_fold_sizes_stay_balanced():
    label_matrix = _random_multilabel()
    sizes = [len(test) for _, test in iterative_kfold(label_matrix, 5, seed=2)]

    assert max(sizes) - min(sizes) <= 0.1 * len(label_matrix) / 5 + 2


def test_kfold_same_seed_gives_same_folds():
    label_matrix = _random_multilabel()
    first = stratify_multilabel(label_matrix, [1.0] * 4, seed=9)

    assert np.array_equal(first, stratify_multilabel(label_matrix, [1.0] * 4, seed=9))
    assert not np.array_equal(first, stratify_multilabel(label_matrix, [1.0] * 4, seed=10))


def test_kfold_rejects_more_folds_than_posts():
    with pytest.raises(ValueError, match="exceeds the number of posts"):
        list(iterative_kfold(np.ones((3, 1)), 5))


def test_train_test_split_keeps_share_and_both_sides():
    label_matrix = _random_multilabel()
    train, held_out = iterative_train_test_split(label_matrix, 0.2, seed=0)

    assert abs(len(held_out) - 80) <= 3
    assert np.all(np.abs(label_matrix[held_out].sum(axis=0) - label_matrix.sum(axis=0) * 0.2) <= 1.5)

    tiny_train, tiny_held_out = iterative_train_test_split(np.zeros((2, 1), dtype=int), 0.1, seed=0)
    assert len(tiny_train) == 1
    assert len(tiny_held_out) == 1
