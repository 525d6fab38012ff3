"""Run an evaluation from its settings: load the sets, run the regimes, build the report.

`EvaluationConfig` is the full, serialisable set of settings (a TOML recipe under
`eval/recipes/` contains one); `run_evaluation` executes it and returns the report dict that
`synsym.evaluation.reports.write_report` writes. `evaluate_generated` is the short path the
prompt optimiser calls in a loop: train on one generated set, score on a gold set.

Example:
    >>> scores = evaluate_generated("runs/demo", "gold.csv")   # doctest: +SKIP
    >>> scores["macro_f1"]                                     # doctest: +SKIP
    0.71
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import synsym
from synsym.evaluation.base import validate_threshold
from synsym.evaluation.classifiers import CLASSIFIERS, classifier_parameters
from synsym.evaluation.data import LabelledSet, load_labelled_set, map_to_view
from synsym.evaluation.metrics import LabelPolicy
from synsym.evaluation.regimes import REGIMES, RegimeSettings, run_regimes
from synsym.settings_files import format_validation_error, read_toml

logger = logging.getLogger(__name__)

REFERENCE = "reference"
REFERENCE_ENV = "SYNSYM_REFERENCE_DIR"
REFERENCE_FILE = "dev.csv"


class EvaluationError(ValueError):
    """Evaluation settings or inputs that cannot be used."""


def reference_dir() -> Path:
    """Return the folder of the SynSym reference set.

    `$SYNSYM_REFERENCE_DIR` when set, else `shared/data/synsym-reference` next to the
    repository folder that contains the `synsym` package.
    """
    override = os.environ.get(REFERENCE_ENV)
    if override:
        return Path(override).expanduser()
    repository_root = Path(synsym.__file__).resolve().parents[1]
    return repository_root.parent / "shared" / "data" / "synsym-reference"


def reference_set_path() -> Path:
    """Return the path of the reference set's dev.csv, or raise EvaluationError naming the fix."""
    path = reference_dir() / REFERENCE_FILE
    if not path.is_file():
        raise EvaluationError(
            f"the reference set was not found at {path}; set {REFERENCE_ENV} to the folder that contains "
            f"{REFERENCE_FILE}, or pass the path of a labelled test file"
        )
    return path


class EvaluationConfig(BaseModel):
    """Every setting of one `synsym evaluate` run; a TOML recipe contains the same fields.

    Paths are resolved against the current working directory; "reference" stands for the
    SynSym reference set (see `reference_set_path`). An empty string means "none".
    """

    model_config = ConfigDict(extra="forbid")

    train: list[str] = Field(default_factory=list, description="generated run folders or labelled files; concatenated")
    real_train: str | None = Field(default=None, description="labelled file of real training posts")
    test: str = Field(default=REFERENCE, description="labelled test file, or 'reference'")
    format: str = Field(default="auto", description="format of the labelled files (see synsym.evaluation.data)")
    taxonomy: str = Field(default="depression14", description="taxonomy name or file")
    view: str | None = Field(default=None, description="label view to score in, e.g. 'phq9'")
    classifier: Literal["tfidf", "embedding", "finetune"] = "tfidf"
    classifier_params: dict[str, object] = Field(default_factory=dict)
    base_model: str | None = Field(default=None, description="local model folder for embedding or finetune")
    regimes: list[Literal["synthetic", "real", "synthetic_then_real"]] = Field(default_factory=lambda: ["synthetic"])
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    folds: int = Field(default=1, ge=1)
    bootstrap: int = Field(default=1000, ge=0)
    threshold: float | Literal["tuned"] = 0.5
    labels: LabelPolicy = "support"
    real_weight: float | None = Field(default=None, gt=0)
    output: str = "evaluation-report"

    @field_validator("real_train", "view", "base_model", "real_weight", mode="before")
    @classmethod
    def normalize_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("train", mode="before")
    @classmethod
    def normalize_train(cls, value: object) -> object:
        if isinstance(value, str):
            return [value] if value else []
        return value

    @field_validator("threshold")
    @classmethod
    def validate_threshold_value(cls, value: float | str) -> float | str:
        return validate_threshold(value)

    def classifier_settings(self) -> dict[str, object]:
        """Return the classifier parameters, with `base_model` routed to the parameter that takes it."""
        params = dict(self.classifier_params)
        if self.base_model is not None:
            if self.classifier == "tfidf":
                raise EvaluationError("base_model applies to the embedding and finetune classifiers, not tfidf")
            params["model" if self.classifier == "embedding" else "base_model"] = self.base_model
        reserved = {"threshold", "random_state"} & set(params)
        if reserved:
            raise EvaluationError(
                f"classifier_params must not set {sorted(reserved)}; use the threshold and seeds settings"
            )
        unknown = sorted(set(params) - set(classifier_parameters(self.classifier)))
        if unknown:
            raise EvaluationError(
                f"classifier {self.classifier!r} has no parameter {unknown}; "
                f"valid: {', '.join(classifier_parameters(self.classifier))}"
            )
        return params


def load_recipe(path: str | Path) -> EvaluationConfig:
    """Read a TOML recipe into an EvaluationConfig.

    Raises:
        EvaluationError: the file is missing, is not valid TOML, or has an invalid field.
    """
    data = read_toml(path, EvaluationError, "recipe", "eval/recipes/tfidf.toml")
    return parse_config(data, source=str(path))


def parse_config(data: dict[str, object], source: str = "<settings>") -> EvaluationConfig:
    """Validate a settings mapping, raising EvaluationError that lists each invalid field."""
    try:
        return EvaluationConfig.model_validate(data)
    except ValidationError as error:
        raise EvaluationError(format_validation_error(error, f"invalid evaluation settings in {source}:")) from None


def load_set(spec: str | LabelledSet, config: EvaluationConfig) -> LabelledSet:
    """Load one labelled set ("reference", a file or a run folder) and map it to the view if one is set."""
    if isinstance(spec, LabelledSet):
        data = spec
        if config.view is not None:
            data = map_to_view(data, config.taxonomy, config.view)
    else:
        path = reference_set_path() if spec == REFERENCE else Path(spec)
        # Duplicate texts are kept: generated runs may repeat a post, and the reference set has a few repeats.
        data = load_labelled_set(
            path, format=config.format, taxonomy=config.taxonomy, view=config.view, duplicates="keep"
        )
    logger.info("loaded %d posts, %d labels from %s", len(data.texts), len(data.label_names), data.source)
    return data


def concatenate_sets(sets: Sequence[LabelledSet]) -> LabelledSet:
    """Join labelled sets that share a label space into one.

    Raises:
        EvaluationError: the sets have different label spaces.
    """
    first = sets[0]
    for other in sets[1:]:
        if list(other.label_names) != list(first.label_names):
            raise EvaluationError(
                f"training sets {first.source} and {other.source} have different label spaces; "
                "pass sets labelled with the same taxonomy or view"
            )
    if len(sets) == 1:
        return first
    return LabelledSet(
        texts=[text for data in sets for text in data.texts],
        labels=[list(labels) for data in sets for labels in data.labels],
        label_names=list(first.label_names),
        source=" + ".join(data.source for data in sets),
    )


def _check_label_overlap(train: LabelledSet | None, test: LabelledSet, role: str) -> None:
    if train is None:
        return
    shared = set(train.label_names) & set(test.label_names)
    if not shared:
        raise EvaluationError(
            f"the {role} set ({train.source}) and the test set ({test.source}) share no label; "
            "score a taxonomy-labelled set on a PHQ-9 set with view 'phq9' (--view phq9)"
        )


def _describe(data: LabelledSet | None) -> dict[str, object] | None:
    if data is None:
        return None
    return {"source": data.source, "n_posts": len(data.texts), "label_counts": _label_counts(data)}


def _label_counts(data: LabelledSet) -> dict[str, int]:
    counts = dict.fromkeys(data.label_names, 0)
    for post_labels in data.labels:
        for label in post_labels:
            counts[label] += 1
    return counts


def run_evaluation(
    config: EvaluationConfig,
    synthetic: LabelledSet | None = None,
    real_train: LabelledSet | None = None,
    test: LabelledSet | None = None,
) -> dict[str, object]:
    """Load the sets named in `config` (or use the ones given), run its regimes and return the report.

    Raises:
        EvaluationError: invalid settings or label spaces that cannot be compared.
        synsym.evaluation.data.DataFormatError: a file cannot be read.
        synsym.evaluation.regimes.RegimeError: a regime lacks its training data.
    """
    started = time.perf_counter()
    params = config.classifier_settings()

    if synthetic is None and config.train:
        synthetic = concatenate_sets([load_set(spec, config) for spec in config.train])
    elif synthetic is not None:
        synthetic = load_set(synthetic, config)
    if real_train is None and config.real_train is not None:
        real_train = load_set(config.real_train, config)
    elif real_train is not None:
        real_train = load_set(real_train, config)
    test = load_set(test if test is not None else config.test, config)
    _check_label_overlap(synthetic, test, "synthetic")
    _check_label_overlap(real_train, test, "real training")

    settings = RegimeSettings(
        classifier=config.classifier,
        classifier_params=params,
        seeds=tuple(config.seeds),
        folds=config.folds,
        threshold=config.threshold,
        real_weight=config.real_weight,
        labels=config.labels,
        bootstrap=config.bootstrap,
    )
    regimes = run_regimes(test, config.regimes, settings, synthetic=synthetic, real_train=real_train)
    return {
        "synsym_version": synsym.__version__,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "config": config.model_dump(mode="json"),
        "label_names": list(test.label_names),
        "data": {"synthetic": _describe(synthetic), "real_train": _describe(real_train), "test": _describe(test)},
        "regimes": regimes,
        "seconds": round(time.perf_counter() - started, 3),
    }


def evaluate_generated(
    run_or_set: str | Path | LabelledSet,
    gold: str | Path | LabelledSet,
    classifier: str = "tfidf",
    *,
    classifier_params: dict[str, object] | None = None,
    view: str | None = None,
    taxonomy: str = "depression14",
    threshold: float | str = 0.5,
    seeds: Sequence[int] = (0,),
    bootstrap: int = 1000,
    labels: LabelPolicy = "support",
) -> dict[str, object]:
    """Train a classifier on one generated set and score it on a gold set (the synthetic regime).

    Pass `LabelledSet`s instead of paths when calling in a loop, to read the gold set once.

    Args:
        run_or_set: a generated run folder, a labelled file, or a LabelledSet.
        gold: the gold set: "reference", a labelled file, or a LabelledSet.
        classifier: "tfidf", "embedding" or "finetune".
        classifier_params: keyword arguments for the classifier.
        view: label view to score in (for example "phq9"), or None for the taxonomy's labels.
        taxonomy: taxonomy name or file.
        threshold: decision threshold, a probability, or "tuned".
        seeds: one training run per seed; the headline is their mean.
        bootstrap: bootstrap resamples for the 95% interval (0 skips it).
        labels: "support" averages over labels present in the gold set, "all" over every label.

    Returns:
        {"macro_f1", "macro_f1_std", "macro_f1_ci95", "micro_f1", "per_label",
        "labels_averaged", "classifier", "n_train", "n_test", "seconds"}.
    """
    if classifier not in CLASSIFIERS:
        raise EvaluationError(f"unknown classifier {classifier!r}; choose one of: {', '.join(CLASSIFIERS)}")
    config = parse_config(
        {
            "classifier": classifier,
            "classifier_params": dict(classifier_params or {}),
            "view": view,
            "taxonomy": taxonomy,
            "threshold": threshold,
            "seeds": list(seeds),
            "bootstrap": bootstrap,
            "labels": labels,
            "regimes": ["synthetic"],
        },
        source="evaluate_generated",
    )
    synthetic = run_or_set if isinstance(run_or_set, LabelledSet) else load_set(str(run_or_set), config)
    gold_set = gold if isinstance(gold, LabelledSet) else load_set(str(gold), config)
    report = run_evaluation(config, synthetic=synthetic, test=gold_set)
    result = report["regimes"]["synthetic"]
    return {
        "macro_f1": result["macro_f1"]["mean"],
        "macro_f1_std": result["macro_f1"]["std"],
        "macro_f1_ci95": result["macro_f1_ci95"],
        "micro_f1": result["micro_f1"]["mean"],
        "per_label": result["per_label"],
        "labels_averaged": result["labels_averaged"],
        "classifier": classifier,
        "n_train": report["data"]["synthetic"]["n_posts"],
        "n_test": report["data"]["test"]["n_posts"],
        "seconds": report["seconds"],
    }


__all__ = [
    "REGIMES",
    "EvaluationConfig",
    "EvaluationError",
    "evaluate_generated",
    "load_recipe",
    "parse_config",
    "reference_set_path",
    "run_evaluation",
]
