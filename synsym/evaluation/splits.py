"""Multi-label stratified splits by iterative stratification.

The algorithm follows Sechidis, Tsoumakas and Vlahavas, "On the Stratification of
Multi-Label Data" (ECML PKDD 2011): take the label with the fewest unassigned posts,
hand each of its posts to the fold that still needs that label most, and repeat. Rare
labels are placed first, so a label with k positives spreads over k folds instead of
landing in one by chance, as it can with a random k-fold split.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

logger = logging.getLogger(__name__)


def stratify_multilabel(label_matrix: np.ndarray, proportions: Sequence[float], seed: int = 0) -> np.ndarray:
    """Assign each post to one part so that every label keeps its share in every part.

    Args:
        label_matrix: (n_posts, n_labels) 0/1 matrix.
        proportions: the desired share of posts per part, for example `[0.2] * 5` for five
            folds or `[0.9, 0.1]` for a training and a validation part. Normalised to sum 1.
        seed: seed of the random tie-breaking and of the order in which posts are visited.

    Returns:
        An (n_posts,) integer array with the part index of each post.

    Raises:
        ValueError: the matrix is not 2-D or a proportion is not positive.
    """
    label_matrix = np.asarray(label_matrix)
    if label_matrix.ndim != 2:
        raise ValueError(f"label_matrix must be 2-D (n_posts, n_labels), got shape {label_matrix.shape}")
    shares = np.asarray(proportions, dtype=float)
    if shares.ndim != 1 or len(shares) < 2 or np.any(shares <= 0):
        raise ValueError(f"proportions must be at least two positive numbers, got {list(proportions)}")
    shares = shares / shares.sum()

    rng = np.random.default_rng(seed)
    positives = label_matrix.astype(bool)
    n_posts, n_labels = positives.shape
    assignment = np.full(n_posts, -1, dtype=int)

    # Desired remaining posts per part, overall and per label; both shrink as posts are placed.
    desired_posts = shares * n_posts
    desired_per_label = np.outer(positives.sum(axis=0), shares)
    remaining_per_label = positives.sum(axis=0).astype(int)

    while remaining_per_label.sum() > 0:
        open_labels = np.flatnonzero(remaining_per_label > 0)
        fewest = remaining_per_label[open_labels].min()
        label = rng.choice(open_labels[remaining_per_label[open_labels] == fewest])

        posts = np.flatnonzero(positives[:, label] & (assignment < 0))
        for post in rng.permutation(posts):
            part = _pick_part(desired_per_label[label], desired_posts, rng)
            assignment[post] = part
            desired_posts[part] -= 1
            desired_per_label[positives[post], part] -= 1
            remaining_per_label[positives[post]] -= 1

    for post in rng.permutation(np.flatnonzero(assignment < 0)):
        part = _pick_part(desired_posts, desired_posts, rng)
        assignment[post] = part
        desired_posts[part] -= 1
    return assignment


def _pick_part(desired_for_label: np.ndarray, desired_posts: np.ndarray, rng: np.random.Generator) -> int:
    """Return the part that needs the label most, breaking ties by overall need, then at random."""
    candidates = np.flatnonzero(desired_for_label == desired_for_label.max())
    if len(candidates) > 1:
        need = desired_posts[candidates]
        candidates = candidates[need == need.max()]
    return int(rng.choice(candidates))


def iterative_kfold(label_matrix: np.ndarray, n_folds: int, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (train_indices, test_indices) for each of `n_folds` multi-label stratified folds.

    Raises:
        ValueError: fewer than 2 folds, or more folds than posts.
    """
    n_posts = len(label_matrix)
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    if n_folds > n_posts:
        raise ValueError(f"n_folds={n_folds} exceeds the number of posts ({n_posts}); use fewer folds")
    assignment = stratify_multilabel(label_matrix, [1.0] * n_folds, seed=seed)
    for fold in range(n_folds):
        yield np.flatnonzero(assignment != fold), np.flatnonzero(assignment == fold)


def iterative_train_test_split(
    label_matrix: np.ndarray, test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split post indices into a training and a held-out part that keep every label's share.

    Raises:
        ValueError: `test_fraction` is not strictly between 0 and 1, or fewer than 2 posts.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    if len(label_matrix) < 2:
        raise ValueError(f"a split needs at least 2 posts, got {len(label_matrix)}")
    assignment = stratify_multilabel(label_matrix, [1.0 - test_fraction, test_fraction], seed=seed)

    # Tiny sets can leave one side empty; move one post so both sides exist.
    if not np.any(assignment == 1):
        assignment[np.random.default_rng(seed).integers(len(assignment))] = 1
    if not np.any(assignment == 0):
        assignment[np.random.default_rng(seed).integers(len(assignment))] = 0
    return np.flatnonzero(assignment == 0), np.flatnonzero(assignment == 1)
