"""Multi-label symptom classifiers with the scikit-learn contract, and a registry by name.

Three classifiers, from fastest to closest to the SynSym paper's set-up:

- `TfidfClassifier`: word and character n-gram TF-IDF with one logistic regression per
  label. Trains and scores 10,000 posts in seconds, so the prompt optimiser can call it
  for every candidate.
- `EmbeddingClassifier`: frozen all-MiniLM-L6-v2 sentence embeddings with one logistic
  regression per label.
- `FinetuneClassifier` (in `synsym.evaluation.finetune`): a transformer encoder fine-tuned
  end to end with binary cross-entropy and early stopping.

Every classifier takes raw texts and an (n_posts, n_labels) 0/1 matrix, returns
probabilities from `predict_proba` and 0/1 labels from `predict`. A label with no positive
post in training gets probability 0 (and one with only positive posts probability 1)
instead of an error.

Example:
    >>> clf = build_classifier("tfidf")
    >>> clf.fit(["I cannot sleep at all", "I feel so tired"] * 5, [[1, 0], [0, 1]] * 5)
    TfidfClassifier()
    >>> clf.predict(["I lie awake and cannot sleep"]).tolist()
    [[1, 0]]
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from synsym.evaluation.base import (
    ClassifierError,
    MultiLabelClassifier,
    Threshold,
    tune_thresholds,
    validate_label_matrix,
    validate_sample_weight,
    validate_threshold,
)
from synsym.evaluation.encoders import embed_texts
from synsym.evaluation.finetune import FinetuneClassifier
from synsym.evaluation.splits import iterative_kfold

logger = logging.getLogger(__name__)

__all__ = [
    "CLASSIFIERS",
    "ClassifierError",
    "EmbeddingClassifier",
    "FinetuneClassifier",
    "MultiLabelClassifier",
    "TfidfClassifier",
    "build_classifier",
]

LogisticHead = LogisticRegression | float


def fit_logistic_heads(
    features: object,
    label_matrix: np.ndarray,
    sample_weight: np.ndarray | None,
    C: float,
    class_weight: Literal["balanced"] | None,
    solver: Literal["liblinear", "saga"],
    max_iter: int,
    random_state: int,
) -> list[LogisticHead]:
    """Fit one binary logistic regression per label column.

    A column with a single value (a label that never, or always, occurs) gets that value as
    a constant probability instead of a model, because logistic regression needs both classes.
    liblinear solves the dual problem when there are more features than posts (TF-IDF), which
    is several times faster there and reaches the same optimum.
    """
    n_posts, n_features = features.shape
    dual = solver == "liblinear" and n_features > n_posts
    heads: list[LogisticHead] = []
    for column in label_matrix.T:
        if column.min() == column.max():
            heads.append(float(column[0]))
            continue
        head = LogisticRegression(
            C=C, class_weight=class_weight, solver=solver, dual=dual, max_iter=max_iter, random_state=random_state
        )
        head.fit(features, column, sample_weight=sample_weight)
        heads.append(head)
    return heads


def predict_logistic_heads(heads: Sequence[LogisticHead], features: object, n_posts: int) -> np.ndarray:
    """Return the (n_posts, n_labels) positive-class probabilities of `fit_logistic_heads` output."""
    probabilities = np.empty((n_posts, len(heads)))
    for index, head in enumerate(heads):
        if isinstance(head, float):
            probabilities[:, index] = head
        else:
            probabilities[:, index] = head.predict_proba(features)[:, 1]
    return probabilities


class _LinearClassifier(MultiLabelClassifier):
    """Shared fitting for the feature-extractor + per-label logistic regression classifiers.

    With `threshold="tuned"`, per-label thresholds come from out-of-fold probabilities of
    `tuning_folds` multi-label stratified folds on the training posts. The feature extractor
    is fitted once on all training posts, so the folds share its vocabulary and IDF weights
    (which use no labels).
    """

    def _fit_features(self, texts: Sequence[str]) -> object:
        raise NotImplementedError

    def _transform(self, texts: Sequence[str]) -> object:
        raise NotImplementedError

    def _heads(self, features: object, label_matrix: np.ndarray, weights: np.ndarray | None) -> list[LogisticHead]:
        return fit_logistic_heads(
            features,
            label_matrix,
            weights,
            C=self.C,
            class_weight=self.class_weight,
            solver=self.solver,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    def fit(self, texts: Sequence[str], Y: object, sample_weight: object = None) -> _LinearClassifier:
        """Fit the feature extractor and one logistic regression per label.

        Args:
            texts: training posts.
            Y: (n_posts, n_labels) 0/1 matrix.
            sample_weight: optional non-negative weight per post.
        """
        texts = list(texts)
        label_matrix = validate_label_matrix(texts, Y)
        weights = validate_sample_weight(sample_weight, len(texts))
        threshold = validate_threshold(self.threshold)

        features = self._fit_features(texts)
        self.n_labels_ = label_matrix.shape[1]
        self.heads_ = self._heads(features, label_matrix, weights)
        self.thresholds_ = self._initial_thresholds(self.n_labels_)

        if threshold == "tuned":
            self.thresholds_ = self._tuned_thresholds(features, label_matrix, weights)
        return self

    def _tuned_thresholds(self, features: object, label_matrix: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        n_posts = label_matrix.shape[0]
        n_folds = min(self.tuning_folds, n_posts)
        if n_folds < 2:
            logger.warning("too few posts (%d) to tune thresholds; keeping 0.5", n_posts)
            return np.full(self.n_labels_, 0.5)
        out_of_fold = np.zeros(label_matrix.shape)
        for train_index, held_out in iterative_kfold(label_matrix, n_folds, seed=self.random_state):
            fold_weights = None if weights is None else weights[train_index]
            heads = self._heads(features[train_index], label_matrix[train_index], fold_weights)
            out_of_fold[held_out] = predict_logistic_heads(heads, features[held_out], len(held_out))
        return tune_thresholds(label_matrix, out_of_fold)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return the (n_posts, n_labels) probability of each label."""
        self._check_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.n_labels_))
        return predict_logistic_heads(self.heads_, self._transform(texts), len(texts))


class TfidfClassifier(_LinearClassifier):
    """Word (1-2) and char_wb (2-5) n-gram TF-IDF features, one logistic regression per label.

    Args:
        word_ngram_range: n-gram sizes of the word features.
        char_ngram_range: n-gram sizes of the character features (within word boundaries).
        min_df: minimum number of training posts an n-gram must appear in.
        max_features: cap on the vocabulary of each feature family (None keeps all).
        C: inverse L2 regularisation strength of each logistic regression.
        class_weight: "balanced" reweights positives of rare labels; None weighs posts equally.
        solver: "liblinear" (default, fast for sparse features) or "saga".
        max_iter: iteration cap of the solver.
        threshold: decision threshold, a probability, or "tuned" for per-label thresholds
            from out-of-fold predictions.
        tuning_folds: folds used for `threshold="tuned"`.
        random_state: seed of the solver and of the tuning folds.

    Example:
        >>> clf = TfidfClassifier(class_weight=None).fit(["so tired", "no sleep"] * 4, [[1, 0], [0, 1]] * 4)
        >>> clf.predict_proba(["tired"]).shape
        (1, 2)
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 1,
        max_features: int | None = 200_000,
        C: float = 10.0,
        class_weight: Literal["balanced"] | None = "balanced",
        solver: Literal["liblinear", "saga"] = "liblinear",
        max_iter: int = 1000,
        threshold: Threshold = 0.5,
        tuning_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.threshold = threshold
        self.tuning_folds = tuning_folds
        self.random_state = random_state

    def _fit_features(self, texts: Sequence[str]) -> object:
        self.vectorizer_ = FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=tuple(self.word_ngram_range),
                        min_df=self.min_df,
                        max_features=self.max_features,
                        sublinear_tf=True,
                        dtype=np.float32,
                    ),
                ),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.char_ngram_range),
                        min_df=self.min_df,
                        max_features=self.max_features,
                        sublinear_tf=True,
                        dtype=np.float32,
                    ),
                ),
            ]
        )
        try:
            return self.vectorizer_.fit_transform(texts).tocsr()
        except ValueError as error:
            raise ClassifierError(f"TF-IDF features could not be built from {len(texts)} posts: {error}") from error

    def _transform(self, texts: Sequence[str]) -> object:
        return self.vectorizer_.transform(texts).tocsr()


class EmbeddingClassifier(_LinearClassifier):
    """Frozen sentence embeddings (mean-pooled, L2-normalised), one logistic regression per label.

    Args:
        model: local Hugging Face model folder; None uses the bundled all-MiniLM-L6-v2.
        max_length: token limit per post; longer posts are truncated.
        batch_size: posts per encoder forward pass.
        C: inverse L2 regularisation strength of each logistic regression.
        class_weight: "balanced" or None, as for `TfidfClassifier`.
        solver: "liblinear" or "saga".
        max_iter: iteration cap of the solver.
        threshold: a probability, or "tuned" for per-label thresholds from out-of-fold predictions.
        tuning_folds: folds used for `threshold="tuned"`.
        random_state: seed of the solver and of the tuning folds.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        max_length: int = 128,
        batch_size: int = 64,
        C: float = 10.0,
        class_weight: Literal["balanced"] | None = "balanced",
        solver: Literal["liblinear", "saga"] = "liblinear",
        max_iter: int = 1000,
        threshold: Threshold = 0.5,
        tuning_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.C = C
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.threshold = threshold
        self.tuning_folds = tuning_folds
        self.random_state = random_state

    def _fit_features(self, texts: Sequence[str]) -> np.ndarray:
        return self._transform(texts)

    def _transform(self, texts: Sequence[str]) -> np.ndarray:
        return embed_texts(texts, model=self.model, max_length=self.max_length, batch_size=self.batch_size)


CLASSIFIERS: dict[str, type[MultiLabelClassifier]] = {
    "tfidf": TfidfClassifier,
    "embedding": EmbeddingClassifier,
    "finetune": FinetuneClassifier,
}


def classifier_parameters(name: str) -> list[str]:
    """Return the parameter names that `build_classifier(name, ...)` accepts."""
    cls = _classifier_class(name)
    return [parameter for parameter in inspect.signature(cls.__init__).parameters if parameter != "self"]


def _classifier_class(name: str) -> type[MultiLabelClassifier]:
    if name not in CLASSIFIERS:
        raise ClassifierError(f"unknown classifier {name!r}; choose one of: {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name]


def build_classifier(name: str, **params: object) -> MultiLabelClassifier:
    """Create an unfitted classifier by registry name ("tfidf", "embedding" or "finetune").

    Raises:
        ClassifierError: the name is unknown, or a parameter is not one the classifier takes.
    """
    cls = _classifier_class(name)
    accepted = classifier_parameters(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ClassifierError(
            f"classifier {name!r} has no parameter {', '.join(map(repr, unknown))}; valid: {', '.join(accepted)}"
        )
    if "threshold" in params:
        validate_threshold(params["threshold"])
    return cls(**params)
