"""A transformer encoder fine-tuned end to end for multi-label symptom classification.

The SynSym paper fine-tunes MentalBERT; any local Hugging Face model folder can be passed
as `base_model`, and the default is the bundled all-MiniLM-L6-v2 so that the classifier
runs with no download. Training uses binary cross-entropy on one logit per label
(`problem_type="multi_label_classification"`), AdamW with linear warm-up and decay, and
early stopping on the loss of a multi-label stratified validation split.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synsym.evaluation.base import (
    ClassifierError,
    MultiLabelClassifier,
    Threshold,
    tune_thresholds,
    validate_label_matrix,
    validate_sample_weight,
    validate_threshold,
)
from synsym.evaluation.encoders import load_tokenizer, quiet_transformers, resolve_model_path
from synsym.evaluation.splits import iterative_train_test_split

logger = logging.getLogger(__name__)


class FinetuneClassifier(MultiLabelClassifier):
    """Fine-tune a transformer encoder with a multi-label head; CPU or GPU, seeded.

    Args:
        base_model: local Hugging Face model folder; None uses the bundled all-MiniLM-L6-v2.
        max_length: token limit per post; longer posts are truncated.
        batch_size: posts per optimisation step.
        learning_rate: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_fraction: share of the planned steps spent warming the learning rate up.
        max_epochs: upper bound on passes over the training posts.
        patience: epochs without a lower validation loss before training stops.
        validation_fraction: share of posts held out for early stopping (and for
            `threshold="tuned"`); 0 trains for `max_epochs` with no validation.
        threshold: a probability, or "tuned" for per-label thresholds picked on the validation split.
        device: "cpu", "cuda" or None (CUDA when available, else CPU).
        random_state: seed of the head initialisation, dropout, batch order and validation split.

    Example:
        >>> clf = FinetuneClassifier(max_epochs=1, max_length=32)
        >>> clf.fit(["so tired all day", "awake all night"] * 8, [[1, 0], [0, 1]] * 8).predict(["tired"]).shape
        (1, 2)
    """

    supports_continued_training = True

    def __init__(
        self,
        base_model: str | Path | None = None,
        max_length: int = 128,
        batch_size: int = 16,
        learning_rate: float = 5e-5,
        weight_decay: float = 0.01,
        warmup_fraction: float = 0.1,
        max_epochs: int = 10,
        patience: int = 2,
        validation_fraction: float = 0.1,
        threshold: Threshold = 0.5,
        device: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.base_model = base_model
        self.max_length = max_length
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.threshold = threshold
        self.device = device
        self.random_state = random_state

    def fit(self, texts: Sequence[str], Y: object, sample_weight: object = None) -> FinetuneClassifier:
        """Load `base_model` with a fresh multi-label head and fine-tune it on the posts.

        Args:
            texts: training posts.
            Y: (n_posts, n_labels) 0/1 matrix.
            sample_weight: optional non-negative weight per post, applied to its loss.
        """
        import torch
        from transformers import AutoModelForSequenceClassification

        texts = list(texts)
        label_matrix = validate_label_matrix(texts, Y)
        self._validate_settings()

        folder = resolve_model_path(self.base_model)
        torch.manual_seed(self.random_state)
        self.device_ = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer_ = load_tokenizer(folder)
        with quiet_transformers():
            self.model_ = AutoModelForSequenceClassification.from_pretrained(
                str(folder),
                num_labels=label_matrix.shape[1],
                problem_type="multi_label_classification",
                local_files_only=True,
            )
        self.model_.to(self.device_)
        self.n_labels_ = label_matrix.shape[1]
        self.seen_labels_ = np.zeros(self.n_labels_, dtype=bool)
        self.history_: list[dict[str, float]] = []
        self.thresholds_ = self._initial_thresholds(self.n_labels_)
        logger.info("fine-tuning %s on %d posts, %d labels", folder.name, len(texts), self.n_labels_)
        self._train(texts, label_matrix, validate_sample_weight(sample_weight, len(texts)))
        return self

    def continue_fit(self, texts: Sequence[str], Y: object, sample_weight: object = None) -> FinetuneClassifier:
        """Fine-tune the fitted model further on new posts (the "synthetic then real" regime).

        The optimiser and learning-rate schedule start afresh; early stopping uses a
        validation split of the new posts. The label columns must match the first fit.

        Raises:
            ClassifierError: the classifier is not fitted, or `Y` has another number of labels.
        """
        self._check_fitted()
        texts = list(texts)
        label_matrix = validate_label_matrix(texts, Y)
        if label_matrix.shape[1] != self.n_labels_:
            raise ClassifierError(
                f"continue_fit got {label_matrix.shape[1]} label columns but the model has {self.n_labels_}; "
                "use the same label space as the first fit"
            )
        logger.info("continuing fine-tuning on %d posts", len(texts))
        self._train(texts, label_matrix, validate_sample_weight(sample_weight, len(texts)))
        return self

    def _validate_settings(self) -> None:
        validate_threshold(self.threshold)
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ClassifierError(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if self.max_epochs < 1 or self.patience < 1 or self.batch_size < 1 or self.max_length < 2:
            raise ClassifierError(
                "max_epochs, patience and batch_size must be at least 1 and max_length at least 2; got "
                f"max_epochs={self.max_epochs}, patience={self.patience}, batch_size={self.batch_size}, "
                f"max_length={self.max_length}"
            )

    def _split(self, label_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        n_posts = len(label_matrix)
        if self.validation_fraction == 0.0 or n_posts < 4:
            if self.validation_fraction > 0.0:
                logger.warning("only %d posts: training without a validation split", n_posts)
            return np.arange(n_posts), None
        return iterative_train_test_split(label_matrix, self.validation_fraction, seed=self.random_state)

    def _train(self, texts: list[str], label_matrix: np.ndarray, weights: np.ndarray | None) -> None:
        import torch
        from transformers import get_linear_schedule_with_warmup

        train_index, validation_index = self._split(label_matrix)
        self.seen_labels_ |= label_matrix[train_index].any(axis=0)
        if weights is None:
            weights = np.ones(len(texts))

        steps_per_epoch = math.ceil(len(train_index) / self.batch_size)
        total_steps = steps_per_epoch * self.max_epochs
        optimizer = torch.optim.AdamW(
            self.model_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        scheduler = get_linear_schedule_with_warmup(optimizer, int(self.warmup_fraction * total_steps), total_steps)
        generator = torch.Generator().manual_seed(self.random_state + len(self.history_))

        best_loss, best_state, stale_epochs = math.inf, None, 0
        for epoch in range(self.max_epochs):
            train_loss = self._train_epoch(texts, label_matrix, weights, train_index, optimizer, scheduler, generator)
            record = {"epoch": float(len(self.history_) + 1), "train_loss": train_loss}
            if validation_index is None:
                self.history_.append(record)
                continue

            validation_loss = self._validation_loss(texts, label_matrix, validation_index)
            record["validation_loss"] = validation_loss
            self.history_.append(record)
            logger.info("epoch %d: train loss %.4f, validation loss %.4f", epoch + 1, train_loss, validation_loss)
            if validation_loss < best_loss:
                best_loss, stale_epochs = validation_loss, 0
                best_state = copy.deepcopy(self.model_.state_dict())
            else:
                stale_epochs += 1
                if stale_epochs >= self.patience:
                    logger.info("early stopping after epoch %d (best validation loss %.4f)", epoch + 1, best_loss)
                    break

        if best_state is not None:
            self.model_.load_state_dict(best_state)
        if self.threshold == "tuned":
            if validation_index is None:
                logger.warning("threshold='tuned' needs a validation split; keeping 0.5")
            else:
                validation_texts = [texts[i] for i in validation_index]
                self.thresholds_ = tune_thresholds(
                    label_matrix[validation_index], self.predict_proba(validation_texts)
                )

    def _encode(self, texts: Sequence[str]) -> dict[str, object]:
        encoded = self.tokenizer_(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {key: value.to(self.device_) for key, value in encoded.items()}

    def _train_epoch(self, texts, label_matrix, weights, train_index, optimizer, scheduler, generator) -> float:
        import torch

        self.model_.train()
        order = train_index[torch.randperm(len(train_index), generator=generator).numpy()]
        total, seen = 0.0, 0
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            loss = self._batch_loss(texts, label_matrix, weights, batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
            seen += len(batch)
        return total / max(seen, 1)

    def _batch_loss(self, texts, label_matrix, weights, batch: np.ndarray) -> object:
        import torch

        logits = self.model_(**self._encode([texts[i] for i in batch])).logits
        targets = torch.as_tensor(label_matrix[batch], dtype=logits.dtype, device=self.device_)
        per_post = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=1)
        batch_weights = torch.as_tensor(weights[batch], dtype=logits.dtype, device=self.device_)
        return (per_post * batch_weights).sum() / batch_weights.sum().clamp(min=1e-12)

    def _validation_loss(self, texts, label_matrix, validation_index: np.ndarray) -> float:
        import torch

        self.model_.eval()
        total = 0.0
        with torch.inference_mode():
            for start in range(0, len(validation_index), self.batch_size):
                batch = validation_index[start : start + self.batch_size]
                logits = self.model_(**self._encode([texts[i] for i in batch])).logits
                targets = torch.as_tensor(label_matrix[batch], dtype=logits.dtype, device=self.device_)
                total += float(torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="sum"))
        return total / (len(validation_index) * self.n_labels_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return the (n_posts, n_labels) sigmoid probabilities; labels never seen in training get 0."""
        import torch

        self._check_fitted()
        texts = list(texts)
        probabilities = np.zeros((len(texts), self.n_labels_))
        self.model_.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size * 4):
                logits = self.model_(**self._encode(texts[start : start + self.batch_size * 4])).logits
                probabilities[start : start + len(logits)] = torch.sigmoid(logits).float().cpu().numpy()
        probabilities[:, ~self.seen_labels_] = 0.0
        return probabilities
