"""The three classifiers, trained for real on small self-written posts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from symptom_posts import LABELS, TEST_PHRASES, TRAIN_PHRASES, as_matrix, single_label_posts

from synsym.evaluation.base import ClassifierError, tune_thresholds
from synsym.evaluation.classifiers import (
    EmbeddingClassifier,
    FinetuneClassifier,
    TfidfClassifier,
    build_classifier,
    classifier_parameters,
)
from synsym.evaluation.encoders import embed_texts
from synsym.evaluation.metrics import macro_f1

TRAIN_TEXTS, TRAIN_LABELS = single_label_posts(TRAIN_PHRASES)
TEST_TEXTS, TEST_LABELS = single_label_posts(TEST_PHRASES)
TRAIN_Y = np.array(as_matrix(TRAIN_LABELS))
TEST_Y = np.array(as_matrix(TEST_LABELS))


def _with_unseen_label(matrix: np.ndarray) -> np.ndarray:
    """Append a label column that no post has."""
    return np.hstack([matrix, np.zeros((len(matrix), 1), dtype=int)])


def test_tfidf_learns_symptoms_from_written_posts():
    clf = TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y)

    assert macro_f1(TEST_Y, clf.predict(TEST_TEXTS)) >= 0.8


def test_tfidf_predicts_unseen_label_as_zero():
    clf = TfidfClassifier().fit(TRAIN_TEXTS, _with_unseen_label(TRAIN_Y))

    probabilities = clf.predict_proba(TEST_TEXTS)
    assert probabilities.shape == (len(TEST_TEXTS), len(LABELS) + 1)
    assert np.all(probabilities[:, -1] == 0.0)
    assert np.all(clf.predict(TEST_TEXTS)[:, -1] == 0)


def test_tfidf_label_in_every_post_predicts_one():
    label_matrix = np.hstack([TRAIN_Y, np.ones((len(TRAIN_Y), 1), dtype=int)])
    clf = TfidfClassifier().fit(TRAIN_TEXTS, label_matrix)

    assert np.all(clf.predict(TEST_TEXTS)[:, -1] == 1)


def test_tfidf_probabilities_are_in_unit_interval():
    probabilities = TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y).predict_proba(TEST_TEXTS)

    assert probabilities.min() >= 0.0
    assert probabilities.max() <= 1.0


def test_tfidf_tuned_threshold_picks_grid_values():
    clf = TfidfClassifier(threshold="tuned").fit(TRAIN_TEXTS, TRAIN_Y)

    assert clf.thresholds_.shape == (len(LABELS),)
    assert np.all((clf.thresholds_ >= 0.05) & (clf.thresholds_ <= 0.95))
    assert macro_f1(TEST_Y, clf.predict(TEST_TEXTS)) >= 0.7


def test_tfidf_sample_weight_changes_the_model():
    weights = np.ones(len(TRAIN_TEXTS))
    weights[TRAIN_Y[:, 0] == 1] = 5.0
    plain = TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y).predict_proba(TEST_TEXTS)
    weighted = TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y, sample_weight=weights).predict_proba(TEST_TEXTS)

    assert not np.allclose(plain, weighted)


def test_tfidf_rejects_sample_weight_of_wrong_length():
    with pytest.raises(ClassifierError, match="one value per post"):
        TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y, sample_weight=[1.0, 2.0])


def test_classifier_rejects_label_rows_mismatch():
    with pytest.raises(ClassifierError, match="label rows"):
        TfidfClassifier().fit(TRAIN_TEXTS, TRAIN_Y[:-1])


def test_classifier_predict_before_fit_raises():
    with pytest.raises(ClassifierError, match="not fitted"):
        TfidfClassifier().predict(["hello"])


def test_classifier_clone_keeps_parameters():
    clf = TfidfClassifier(C=2.0, class_weight=None)

    assert clone(clf).get_params() == clf.get_params()


def test_tune_thresholds_finds_separating_threshold():
    y_true = np.array([[1], [1], [0], [0]])
    probabilities = np.array([[0.3], [0.25], [0.1], [0.05]])

    threshold = tune_thresholds(y_true, probabilities)[0]
    assert 0.1 < threshold <= 0.25


def test_tune_thresholds_keeps_default_without_positives():
    assert tune_thresholds(np.zeros((3, 1)), np.full((3, 1), 0.9)).tolist() == [0.5]


def test_build_classifier_rejects_unknown_name():
    with pytest.raises(ClassifierError, match="tfidf, embedding, finetune"):
        build_classifier("svm")


def test_build_classifier_rejects_unknown_parameter():
    with pytest.raises(ClassifierError, match="has no parameter 'epochs'"):
        build_classifier("finetune", epochs=3)


def test_build_classifier_rejects_invalid_threshold():
    with pytest.raises(ClassifierError, match="threshold 1.5 is invalid"):
        build_classifier("tfidf", threshold=1.5)


def test_build_classifier_passes_parameters():
    clf = build_classifier("embedding", C=3.0)

    assert isinstance(clf, EmbeddingClassifier)
    assert clf.C == 3.0
    assert "max_epochs" in classifier_parameters("finetune")


def test_embedding_vectors_are_normalised_and_cached():
    first = embed_texts(["i cannot sleep", "i am tired"], max_length=32)
    again = embed_texts(["i am tired"], max_length=32)

    assert first.shape == (2, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(again[0], first[1])


def test_embedding_learns_symptoms_from_written_posts():
    clf = EmbeddingClassifier(max_length=32).fit(TRAIN_TEXTS, _with_unseen_label(TRAIN_Y))

    assert macro_f1(TEST_Y, clf.predict(TEST_TEXTS)[:, :-1]) >= 0.8
    assert np.all(clf.predict_proba(TEST_TEXTS)[:, -1] == 0.0)


def _tiny_finetune(**params: object) -> FinetuneClassifier:
    settings = {"max_length": 24, "batch_size": 8, "max_epochs": 1, "random_state": 0, **params}
    return FinetuneClassifier(**settings)


@pytest.mark.slow
def test_finetune_same_seed_gives_same_probabilities():
    first = _tiny_finetune().fit(TRAIN_TEXTS, TRAIN_Y).predict_proba(TEST_TEXTS)
    second = _tiny_finetune().fit(TRAIN_TEXTS, TRAIN_Y).predict_proba(TEST_TEXTS)

    assert np.allclose(first, second, atol=1e-6)


def test_finetune_training_lowers_loss_and_learns():
    clf = _tiny_finetune(max_epochs=6, learning_rate=3e-4, validation_fraction=0.0).fit(TRAIN_TEXTS, TRAIN_Y)

    assert clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]
    assert len(clf.history_) == 6
    assert macro_f1(TEST_Y, clf.predict(TEST_TEXTS)) >= 0.5


def test_finetune_predicts_unseen_label_as_zero():
    clf = _tiny_finetune().fit(TRAIN_TEXTS, _with_unseen_label(TRAIN_Y))

    assert np.all(clf.predict_proba(TEST_TEXTS)[:, -1] == 0.0)


def test_finetune_continue_fit_trains_further():
    clf = _tiny_finetune().fit(TRAIN_TEXTS, TRAIN_Y)
    before = clf.predict_proba(TEST_TEXTS)
    epochs_before = len(clf.history_)

    clf.continue_fit(TEST_TEXTS, TEST_Y)

    assert len(clf.history_) == epochs_before + 1
    assert not np.allclose(before, clf.predict_proba(TEST_TEXTS))


def test_finetune_continue_fit_rejects_other_label_count():
    clf = _tiny_finetune().fit(TRAIN_TEXTS, TRAIN_Y)

    with pytest.raises(ClassifierError, match="same label space"):
        clf.continue_fit(TEST_TEXTS, _with_unseen_label(TEST_Y))


@pytest.mark.slow
def test_finetune_early_stopping_stops_within_patience():
    clf = _tiny_finetune(max_epochs=5, patience=1, learning_rate=1e-2, validation_fraction=0.25)
    clf.fit(TRAIN_TEXTS, TRAIN_Y)

    losses = [record["validation_loss"] for record in clf.history_]
    epochs_after_best = len(losses) - 1 - int(np.argmin(losses))
    assert epochs_after_best <= 1
    if len(losses) < 5:
        assert epochs_after_best == 1


def test_finetune_rejects_missing_model_folder(tmp_path):
    with pytest.raises(ClassifierError, match="not found or has no config.json"):
        FinetuneClassifier(base_model=tmp_path / "absent").fit(TRAIN_TEXTS, TRAIN_Y)
