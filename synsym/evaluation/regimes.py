"""Training regimes: what a classifier trains on before it is scored on real posts.

- `synthetic`: train on the generated posts only, score on the real test posts.
- `real`: train on the real training posts only (the baseline a generated set should help).
- `synthetic_then_real`: first the generated posts, then the real training posts.
  For `finetune`, the model trained on the generated posts is fine-tuned further on the
  real training posts (`continue_fit`), as in the SynSym paper (Kang et al., KDD 2026). The linear classifiers
  (`tfidf`, `embedding`) have no cheap equivalent of continued training, so they train
  once on the union of both sets with each real post weighted `real_weight` (by default
  max(1, n_synthetic / n_real), so the real posts carry at least as much total weight as
  the generated ones). The SynSym paper continues training instead, so linear results
  in this regime are not directly comparable with the paper's.

Every regime runs once per seed. With `folds > 1` the test set is also the pool of real
training posts: it is split into multi-label stratified folds (a new split per seed), each
fold is scored by a model trained on the other folds, and the `synthetic` regime's model
(which needs no real posts) is trained once per seed and scored on the same folds. The
SynSym paper evaluated PRIMATE and D2S this way, with 5 folds.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from synsym.evaluation.classifiers import MultiLabelClassifier, build_classifier
from synsym.evaluation.metrics import LabelPolicy, bootstrap_macro_f1, macro_f1, micro_f1, score_predictions, summarize
from synsym.evaluation.splits import iterative_kfold

logger = logging.getLogger(__name__)

Regime = Literal["synthetic", "real", "synthetic_then_real"]
REGIMES: tuple[str, ...] = ("synthetic", "real", "synthetic_then_real")


class RegimeError(ValueError):
    """A regime that cannot run with the data and settings given."""


class LabelledData(Protocol):
    """The fields of a labelled set that the regimes read (`synsym.evaluation.data.LabelledSet` has them)."""

    texts: list[str]
    labels: list[list[str]]
    label_names: list[str]


@dataclass(frozen=True)
class RegimeSettings:
    """Training and scoring settings shared by every regime.

    Attributes:
        classifier: registry name: "tfidf", "embedding" or "finetune".
        classifier_params: keyword arguments for the classifier (seed and threshold excluded).
        seeds: one run per seed; the seed is the classifier's `random_state` and the fold split's seed.
        folds: 1 scores on the whole test set; k > 1 runs k-fold cross-validation on it.
        threshold: decision threshold, a probability, or "tuned".
        real_weight: weight of each real post in the linear `synthetic_then_real` union;
            None means max(1, n_synthetic / n_real).
        labels: which labels macro- and micro-F1 average over ("support" or "all").
        zero_division: value of an undefined precision, recall or F1.
        bootstrap: number of bootstrap resamples of the test posts (0 disables the interval).
        bootstrap_seed: seed of the resampling.
    """

    classifier: str = "tfidf"
    classifier_params: dict[str, object] = field(default_factory=dict)
    seeds: Sequence[int] = (0,)
    folds: int = 1
    threshold: float | str = 0.5
    real_weight: float | None = None
    labels: LabelPolicy = "support"
    zero_division: float = 0.0
    bootstrap: int = 1000
    bootstrap_seed: int = 0


def label_matrix_in(data: LabelledData, label_names: Sequence[str]) -> np.ndarray:
    """Return `data`'s 0/1 matrix with columns in `label_names` order.

    Labels of `data` outside `label_names` are dropped (with a log line); names that `data`
    never uses become all-zero columns.
    """
    column = {name: index for index, name in enumerate(label_names)}
    matrix = np.zeros((len(data.texts), len(label_names)), dtype=int)
    dropped: dict[str, int] = {}
    for row, post_labels in enumerate(data.labels):
        for label in post_labels:
            if label in column:
                matrix[row, column[label]] = 1
            else:
                dropped[label] = dropped.get(label, 0) + 1
    if dropped:
        logger.warning(
            "%s: labels outside the test label space are ignored: %s",
            getattr(data, "source", "training set"),
            ", ".join(f"{name} ({count} posts)" for name, count in sorted(dropped.items())),
        )
    return matrix


@dataclass
class _Split:
    """One scoring split: real training posts (may be empty) and test posts, as indices into the pool."""

    seed: int
    fold: int | None
    train_index: np.ndarray
    test_index: np.ndarray


def run_regimes(
    test: LabelledData,
    regimes: Sequence[str],
    settings: RegimeSettings,
    synthetic: LabelledData | None = None,
    real_train: LabelledData | None = None,
) -> dict[str, dict[str, object]]:
    """Train and score each regime over all seeds (and folds); return one summary per regime.

    The label space is the test set's. See `summarize_regime` for the summary fields.

    Raises:
        RegimeError: an unknown regime, or a regime whose training data is missing.
    """
    _validate_request(regimes, settings, synthetic, real_train, len(test.texts))
    label_names = list(test.label_names)
    test_matrix = label_matrix_in(test, label_names)
    synthetic_matrix = None if synthetic is None else label_matrix_in(synthetic, label_names)

    if settings.folds > 1:
        pool_texts, pool_matrix = list(test.texts), test_matrix
    else:
        real_texts = [] if real_train is None else list(real_train.texts)
        real_matrix = np.zeros((0, len(label_names)), dtype=int) if real_train is None else label_matrix_in(
            real_train, label_names
        )
        pool_texts = real_texts + list(test.texts)
        pool_matrix = np.vstack([real_matrix, test_matrix])

    splits = list(_make_splits(settings, len(pool_texts) - len(test.texts), pool_matrix))
    results = {}
    for regime in regimes:
        logger.info("regime %s: %s classifier, %d runs", regime, settings.classifier, len(splits))
        result = _run_regime(regime, settings, splits, pool_texts, pool_matrix, synthetic, synthetic_matrix)
        raw = result.pop("_raw")
        result["macro_f1"] = summarize([run["macro_f1"] for run in result["runs"]])
        result["micro_f1"] = summarize([run["micro_f1"] for run in result["runs"]])
        result.update(summarize_regime(raw["truth"], raw["predictions"], label_names, settings))
        results[regime] = result
    return results


def _validate_request(
    regimes: Sequence[str],
    settings: RegimeSettings,
    synthetic: LabelledData | None,
    real_train: LabelledData | None,
    n_test: int,
) -> None:
    unknown = [regime for regime in regimes if regime not in REGIMES]
    if unknown or not regimes:
        raise RegimeError(f"unknown or missing regimes {unknown or list(regimes)}; choose from {', '.join(REGIMES)}")
    if not settings.seeds:
        raise RegimeError("seeds is empty; give at least one seed")
    if settings.folds < 1:
        raise RegimeError(f"folds must be 1 (no cross-validation) or more, got {settings.folds}")
    if settings.folds > 1 and real_train is not None:
        raise RegimeError(
            f"folds={settings.folds} cross-validates on the test set, which then supplies the real training "
            "posts; drop the real training set or set folds to 1"
        )
    if settings.folds > n_test:
        raise RegimeError(f"folds={settings.folds} exceeds the {n_test} test posts; use fewer folds")
    needs_synthetic = [regime for regime in regimes if regime in ("synthetic", "synthetic_then_real")]
    if needs_synthetic and synthetic is None:
        raise RegimeError(f"regimes {needs_synthetic} need a synthetic (generated) training set; pass one")
    needs_real = [regime for regime in regimes if regime in ("real", "synthetic_then_real")]
    if needs_real and real_train is None and settings.folds == 1:
        raise RegimeError(
            f"regimes {needs_real} need real training posts: pass a real training set, or set folds > 1 "
            "to cross-validate on the test set"
        )
    for name, data in (("synthetic", synthetic), ("real training", real_train)):
        if data is not None and len(data.texts) == 0:
            raise RegimeError(f"the {name} set is empty")


def _make_splits(settings: RegimeSettings, n_real: int, pool_matrix: np.ndarray):
    for seed in settings.seeds:
        if settings.folds > 1:
            for fold, (train_index, test_index) in enumerate(iterative_kfold(pool_matrix, settings.folds, seed=seed)):
                yield _Split(seed, fold, train_index, test_index)
        else:
            yield _Split(seed, None, np.arange(n_real), np.arange(n_real, len(pool_matrix)))


def _new_classifier(settings: RegimeSettings, seed: int) -> MultiLabelClassifier:
    return build_classifier(
        settings.classifier, **settings.classifier_params, threshold=settings.threshold, random_state=seed
    )


def _run_regime(regime, settings, splits, pool_texts, pool_matrix, synthetic, synthetic_matrix) -> dict[str, object]:
    started = time.perf_counter()
    runs, predictions = [], {}
    synthetic_models: dict[int, MultiLabelClassifier] = {}

    for split in splits:
        run_started = time.perf_counter()
        test_texts = [pool_texts[i] for i in split.test_index]
        train_texts = [pool_texts[i] for i in split.train_index]
        train_matrix = pool_matrix[split.train_index]

        if regime in ("synthetic", "synthetic_then_real") and split.seed not in synthetic_models:
            synthetic_models[split.seed] = _new_classifier(settings, split.seed).fit(synthetic.texts, synthetic_matrix)

        if regime == "synthetic":
            model = synthetic_models[split.seed]
        elif regime == "real":
            model = _new_classifier(settings, split.seed).fit(train_texts, train_matrix)
        else:
            model = _fit_synthetic_then_real(
                settings, split.seed, synthetic_models[split.seed], synthetic, synthetic_matrix, train_texts, train_matrix
            )

        predicted = model.predict(test_texts)
        truth = pool_matrix[split.test_index]
        seed_prediction = predictions.setdefault(split.seed, np.zeros((len(pool_matrix), pool_matrix.shape[1]), int))
        seed_prediction[split.test_index] = predicted
        runs.append(
            {
                "seed": split.seed,
                "fold": split.fold,
                "macro_f1": macro_f1(truth, predicted, settings.labels, settings.zero_division),
                "micro_f1": micro_f1(truth, predicted, settings.labels, settings.zero_division),
                "n_train_synthetic": 0 if regime == "real" else len(synthetic.texts),
                "n_train_real": 0 if regime == "synthetic" else len(train_texts),
                "n_test": len(test_texts),
                "seconds": round(time.perf_counter() - run_started, 3),
            }
        )
        logger.info("regime %s seed %s fold %s: macro-F1 %.4f", regime, split.seed, split.fold, runs[-1]["macro_f1"])

    scored = np.unique(np.concatenate([split.test_index for split in splits]))
    raw = {
        "truth": pool_matrix[scored],
        "predictions": [prediction[scored] for prediction in predictions.values()],
    }
    return {"regime": regime, "runs": runs, "seconds": round(time.perf_counter() - started, 3), "_raw": raw}


def _fit_synthetic_then_real(
    settings: RegimeSettings,
    seed: int,
    synthetic_model: MultiLabelClassifier,
    synthetic: LabelledData,
    synthetic_matrix: np.ndarray,
    real_texts: list[str],
    real_matrix: np.ndarray,
) -> MultiLabelClassifier:
    if synthetic_model.supports_continued_training:
        model = copy.deepcopy(synthetic_model)
        return model.continue_fit(real_texts, real_matrix)

    n_synthetic, n_real = len(synthetic.texts), len(real_texts)
    real_weight = settings.real_weight if settings.real_weight is not None else max(1.0, n_synthetic / max(n_real, 1))
    weights = np.concatenate([np.ones(n_synthetic), np.full(n_real, real_weight)])
    logger.info(
        "synthetic_then_real (%s): union of %d synthetic and %d real posts, real weight %.2f",
        settings.classifier,
        n_synthetic,
        n_real,
        real_weight,
    )
    return _new_classifier(settings, seed).fit(
        list(synthetic.texts) + real_texts, np.vstack([synthetic_matrix, real_matrix]), sample_weight=weights
    )


def summarize_regime(
    truth: np.ndarray, predictions: Sequence[np.ndarray], label_names: Sequence[str], settings: RegimeSettings
) -> dict[str, object]:
    """Score the pooled test predictions of one regime (one matrix per seed) and bootstrap macro-F1.

    Returns:
        "macro_f1_pooled": macro-F1 of the pooled test predictions (all folds together), mean over seeds.
        "macro_f1_ci95": [lower, upper] bootstrap interval of the pooled, seed-averaged macro-F1, or None.
        "per_label": {label: {precision, recall, f1, support}} on the pooled predictions, mean over seeds.
        "labels_averaged": the labels that macro-F1 averaged over.
    """
    per_seed = [
        score_predictions(truth, prediction, label_names, settings.labels, settings.zero_division)
        for prediction in predictions
    ]

    per_label = {}
    for name in label_names:
        per_label[name] = {
            metric: float(np.mean([scores["per_label"][name][metric] for scores in per_seed]))
            for metric in ("precision", "recall", "f1")
        }
        per_label[name]["support"] = per_seed[0]["per_label"][name]["support"]

    interval = bootstrap_macro_f1(
        truth,
        predictions,
        n_resamples=settings.bootstrap,
        seed=settings.bootstrap_seed,
        labels=settings.labels,
        zero_division=settings.zero_division,
    )
    return {
        "macro_f1_pooled": float(np.mean([scores["macro_f1"] for scores in per_seed])),
        "micro_f1_pooled": float(np.mean([scores["micro_f1"] for scores in per_seed])),
        "macro_f1_ci95": None if interval is None else [interval[0], interval[1]],
        "labels_averaged": per_seed[0]["labels_averaged"],
        "per_label": per_label,
    }
