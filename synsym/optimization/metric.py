"""The optimisation metric: macro-F1 of a classifier trained on the data a program generated.

DSPy optimisers call a metric once per example with the program's prediction. Here the
example is a generation job and the prediction is the `GeneratedData` the program wrote
for it. One metric call trains the recipe's classifier on that data set and scores it on
the gold set's optimisation part, over the job's own labels. The optimiser's program
score is the mean over jobs, which is how a whole-data-set metric fits a per-example API.

Scores are memoised on disk by the digest of the generated data plus the classifier
settings and the gold part, so a repeated or re-submitted evaluation trains no classifier.
With `feedback=True` (GEPA) the metric returns `dspy.Prediction(score=..., feedback=...)`
whose text names the weakest symptoms, what they were confused with and a few judge
reject reasons, capped in length for the reflection prompt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import dspy
import numpy as np

from synsym.dataset import GeneratedData
from synsym.evaluation.base import ClassifierError
from synsym.evaluation.classifiers import build_classifier
from synsym.evaluation.data import LabelledSet
from synsym.evaluation.metrics import per_label_scores, select_labels
from synsym.optimization.recipe import ClassifierSettings

logger = logging.getLogger(__name__)

WEAKEST_SHOWN = 3
REJECTS_SHOWN = 3

# Per predictor, the part of the outcome that its instruction controls.
PREDICTOR_HINTS = {
    "expander.predict": "Sub-concepts decide which situations the posts describe: give weak symptoms facets that "
    "cannot be mistaken for the symptoms they were confused with.",
    "writer.predict": "Single-symptom posts train the classifier: posts for weak symptoms need wording and "
    "situations specific to that symptom, not to the ones it was confused with.",
    "composer.predict": "Multi-symptom posts must show every listed symptom clearly; a symptom that is only hinted "
    "teaches the classifier a wrong label.",
    "judge.predict": "The judge decides which posts are kept: rejecting clear posts shrinks the training data, and "
    "keeping off-target posts adds label noise.",
    "proposer.predict": "Combinations decide which symptoms appear together in multi-symptom posts.",
}


class MetricCache:
    """A JSON file of metric results keyed by data, classifier and gold-set digests.

    The file is rewritten atomically after each new entry, so an interrupted optimisation
    keeps every finished score.
    """

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, dict] = {}
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        if self.path is not None and self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                logger.warning("metric cache %s is not valid JSON; starting an empty cache", self.path)
            logger.info("metric cache %s: %d entries", self.path, len(self.entries))

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self.entries.get(key)
            if entry is None:
                self.misses += 1
            else:
                self.hits += 1
            return entry

    def put(self, key: str, entry: dict) -> None:
        with self._lock:
            self.entries[key] = entry
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps(self.entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)


def restrict_labels(data: LabelledSet, label_names: list[str]) -> LabelledSet:
    """Return the same posts with only the labels in `label_names` (the label space of one job)."""
    kept = set(label_names)
    return LabelledSet(
        texts=list(data.texts),
        labels=[[label for label in labels if label in kept] for labels in data.labels],
        label_names=list(label_names),
        source=data.source,
    )


def training_set(data: GeneratedData, label_names: list[str]) -> LabelledSet:
    """Return the kept posts of a generated data set in the job's label space."""
    kept = set(label_names)
    return LabelledSet(
        texts=[row["text"] for row in data.rows],
        labels=[[label for label in row["labels"] if label in kept] for row in data.rows],
        label_names=list(label_names),
        source="generated",
    )


def score_data_set(train: LabelledSet, gold: LabelledSet, settings: ClassifierSettings, seed: int = 0) -> dict:
    """Train the classifier on `train`, score it on `gold`, and describe the errors.

    Returns:
        {"macro_f1", "per_label": {label: {precision, recall, f1, support}}, "confusions":
        {label: {"missed_as": {other: n}, "false_alarms_from": {other: n}}}, "n_train", "n_gold"}.
    """
    classifier = build_classifier(settings.name, threshold=settings.threshold, random_state=seed, **settings.params)
    classifier.fit(train.texts, train.label_matrix())
    predicted = classifier.predict(gold.texts).astype(bool)
    truth = gold.label_matrix().astype(bool)

    scores = per_label_scores(truth, predicted)
    included = select_labels(truth, "support")
    macro = float(scores["f1"][included].mean()) if len(included) else 0.0
    per_label = {}
    confusions = {}
    for index in included:
        name = gold.label_names[index]
        per_label[name] = {key: float(scores[key][index]) for key in ("precision", "recall", "f1", "support")}
        missed = truth[:, index] & ~predicted[:, index]
        false_alarm = predicted[:, index] & ~truth[:, index]
        confusions[name] = {
            "missed_as": _label_counts(predicted[missed] & ~truth[missed], gold.label_names, index),
            "false_alarms_from": _label_counts(truth[false_alarm], gold.label_names, index),
        }
    return {"macro_f1": macro, "per_label": per_label, "confusions": confusions, "n_train": len(train), "n_gold": len(gold)}


def _label_counts(rows: np.ndarray, label_names: list[str], skip: int) -> dict[str, int]:
    counts = rows.sum(axis=0) if len(rows) else np.zeros(len(label_names), dtype=int)
    found = {label_names[index]: int(count) for index, count in enumerate(counts) if count and index != skip}
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def describe_score(details: dict, data: GeneratedData, job: str) -> str:
    """Write the reflection feedback for one job: score, weakest symptoms, confusions, judge rejects."""
    lines = [
        f"Job {job}: macro-F1 {details['macro_f1']:.3f} on {details['n_gold']} gold posts, from a classifier trained "
        f"on {len(data.rows)} kept posts ({len(data.rejects)} rejected by the judge, "
        f"{data.usage.get('failed_units', 0)} failed LM units)."
    ]
    weakest = sorted(details["per_label"].items(), key=lambda item: item[1]["f1"])[:WEAKEST_SHOWN]
    for label, score in weakest:
        line = f"- {label}: F1 {score['f1']:.2f} (precision {score['precision']:.2f}, recall {score['recall']:.2f})"
        confusion = details["confusions"].get(label, {})
        missed = ", ".join(f"{other} x{count}" for other, count in list(confusion.get("missed_as", {}).items())[:2])
        false_alarms = ", ".join(f"{other} x{count}" for other, count in list(confusion.get("false_alarms_from", {}).items())[:2])
        if missed:
            line += f"; its missed posts were read as {missed}"
        if false_alarms:
            line += f"; its false alarms were really {false_alarms}"
        lines.append(line)
    reasons = _reject_reasons(data.rejects)
    if reasons:
        lines.append("Judge rejects: " + " | ".join(reasons))
    return "\n".join(lines)


def describe_empty(data: GeneratedData, job: str) -> str:
    """Write the feedback for a job that kept no post."""
    text = (
        f"Job {job}: no post was kept ({len(data.rejects)} rejected by the judge, "
        f"{data.usage.get('failed_units', 0)} failed LM units), so no classifier could be trained."
    )
    reasons = _reject_reasons(data.rejects)
    return text + (" Judge rejects: " + " | ".join(reasons) if reasons else "")


def _reject_reasons(rejects: list[dict]) -> list[str]:
    reasons = []
    for reject in rejects[:REJECTS_SHOWN]:
        judged = [score.get("reason", "") for score in reject.get("judge_scores") or [] if score.get("reason")]
        text = reject.get("text", "")
        preview = text if len(text) <= 80 else text[:77] + "..."
        reason = reject.get("reject_reason", "rejected")
        reasons.append(f"{reason} on \"{preview}\"" + (f" ({judged[0]})" if judged else ""))
    return reasons


def cap_text(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 15].rstrip() + " [...truncated]"


class GenerationMetric:
    """Scores the data set a program generated for one job (see the module docstring).

    Args:
        gold: The gold set's optimisation part.
        classifier: The classifier trained on each generated data set.
        cache: Where scores are memoised; an in-memory cache when None.
        feedback: Return `dspy.Prediction(score, feedback)` for GEPA instead of a float.
        feedback_max_chars: Cap on the feedback text.
        on_score: Called after every metric call with a dict (job, score, cache_hit, n_train).

    Example:
        >>> metric = GenerationMetric(gold_part, ClassifierSettings())   # doctest: +SKIP
        >>> metric(job, program(**job.inputs()))                           # doctest: +SKIP
        0.41
    """

    def __init__(
        self,
        gold: LabelledSet,
        classifier: ClassifierSettings,
        cache: MetricCache | None = None,
        *,
        feedback: bool = False,
        feedback_max_chars: int = 1200,
        on_score=None,
    ):
        self.gold = gold
        self.classifier = classifier
        self.cache = cache if cache is not None else MetricCache(None)
        self.feedback = feedback
        self.feedback_max_chars = feedback_max_chars
        self.on_score = on_score
        self.calls = 0
        self._gold_fingerprint = _digest([sorted(zip(gold.texts, map(sorted, gold.labels)))])
        self._lock = threading.Lock()

    def cache_key(self, data: GeneratedData, label_names: list[str]) -> str:
        """Return the memo key: generated data, job labels, classifier settings and gold part."""
        return _digest([data.fingerprint(), label_names, self.classifier.model_dump(mode="json"), self._gold_fingerprint])

    def evaluate(self, example: dspy.Example, data: GeneratedData) -> tuple[float, str, bool]:
        """Return (macro-F1, feedback text, cache hit) for the data set generated for `example`."""
        config = example.config
        label_names = list(config.symptoms or self.gold.label_names)
        job = f"seed {config.seed} ({', '.join(label_names)})"
        key = self.cache_key(data, label_names)
        entry = self.cache.get(key)
        if entry is not None:
            return entry["score"], entry["feedback"], True

        train = training_set(data, label_names)
        if len(train) == 0:
            score, text = 0.0, describe_empty(data, job)
        else:
            try:
                details = score_data_set(train, restrict_labels(self.gold, label_names), self.classifier)
                score, text = details["macro_f1"], describe_score(details, data, job)
            except ClassifierError as error:
                logger.warning("classifier failed on job %s: %s", job, error)
                score, text = 0.0, f"Job {job}: the classifier could not be trained on the generated posts ({error})."
        self.cache.put(key, {"score": score, "feedback": text, "n_train": len(train), "job": job})
        return score, text, False

    def __call__(self, gold, pred, trace=None, pred_name=None, pred_trace=None):
        if not isinstance(pred, GeneratedData):
            score, text, hit = 0.0, f"The program raised instead of returning a data set ({type(pred).__name__}).", False
        else:
            score, text, hit = self.evaluate(gold, pred)
        with self._lock:
            self.calls += 1
        if self.on_score is not None:
            self.on_score({"job": gold.config.seed, "symptoms": gold.config.symptoms, "score": score, "cache_hit": hit,
                           "n_train": len(pred.rows) if isinstance(pred, GeneratedData) else 0})
        if not self.feedback:
            return score
        if pred_name in PREDICTOR_HINTS:
            text = f"{text}\nThis predictor ({pred_name}): {PREDICTOR_HINTS[pred_name]}"
        return dspy.Prediction(score=score, feedback=cap_text(text, self.feedback_max_chars))


def _digest(parts: list) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]
