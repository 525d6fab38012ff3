"""The optimisation recipe: every setting of one `synsym optimize` run, as validated data.

A recipe is a TOML file under `optimizers/`. It names the optimiser and its budget, the
LM that generates (`[lm]`) and the LM that proposes or reflects on prompts (`[prompt_lm]`,
the generating LM when absent). It also sets the gold set and its split, the classifier
that scores each generated data set, the size of the generation per metric call, and
where the program is written. Every table forbids unknown keys, so a typo fails with the key's name.

Example:
    >>> recipe = parse_recipe({"name": "demo", "optimizer": {"name": "bootstrap_random_search"}})
    >>> recipe.optimizer.num_candidate_programs
    2
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synsym.config import DEFAULT_THRESHOLD
from synsym.settings_files import format_validation_error, read_toml

logger = logging.getLogger(__name__)

REFERENCE = "reference"
DUMMY_LM = "dummy"


class RecipeError(ValueError):
    """An optimisation recipe that is missing, malformed or has an invalid setting."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LMSettings(_Table):
    """An LM: `local`, `local:NAME`, `local:PATH.gguf`, a LiteLLM model string, or `dummy`.

    `dummy` is the scripted offline LM of `synsym.optimization.scripted`: it writes
    templated posts and instructions without a model, for tests and dry runs.
    """

    model: str = Field(default="local", min_length=1)
    api_base: str | None = Field(default=None, description="server address for LiteLLM models")
    temperature: float = Field(default=0.9, ge=0, le=2)
    max_tokens: int = Field(default=768, ge=16)
    grammar: Literal["auto", "off", "json", "schema"] = "auto"

    @field_validator("api_base", mode="before")
    @classmethod
    def normalize_empty(cls, value: object) -> object:
        return None if value == "" else value


class MiproSettings(_Table):
    """MIPROv2: bootstrapped demo sets and proposed instructions, searched with Optuna's TPE.

    Either `auto` is set, or both `num_candidates` and `num_trials` are. Labelled demos are
    always 0, because a training example here is a generation job, not an input/output pair
    of any predictor.
    """

    name: Literal["mipro"]
    auto: Literal["light", "medium", "heavy"] | None = None
    num_candidates: int | None = Field(default=None, ge=1, description="instruction and demo-set candidates per predictor")
    num_trials: int | None = Field(default=None, ge=1, description="Optuna trials, each a full evaluation on the validation jobs")
    max_bootstrapped_demos: int = Field(default=1, ge=0, description="bootstrapped demos per predictor")
    metric_threshold: float | None = Field(default=None, ge=0, le=1, description="minimum macro-F1 for a trace to become a demo")
    minibatch: bool = Field(default=False, description="score trials on minibatches of validation jobs")
    minibatch_size: int = Field(default=35, ge=1)
    program_aware_proposer: bool = True
    data_aware_proposer: bool = True
    tip_aware_proposer: bool = True
    fewshot_aware_proposer: bool = True
    num_threads: int = Field(default=1, ge=1, description="validation jobs run in parallel (1 for a local model)")
    seed: int = Field(default=9, ge=0)

    @model_validator(mode="after")
    def validate_budget(self) -> MiproSettings:
        if self.auto is not None and (self.num_candidates is not None or self.num_trials is not None):
            raise ValueError(
                f"set either auto ({self.auto!r}) or num_candidates and num_trials, not both "
                f"(num_candidates={self.num_candidates}, num_trials={self.num_trials})"
            )
        if self.auto is None and (self.num_candidates is None or self.num_trials is None):
            raise ValueError(
                f"without auto, both num_candidates and num_trials are required "
                f"(num_candidates={self.num_candidates}, num_trials={self.num_trials})"
            )
        return self


class GepaSettings(_Table):
    """GEPA: reflective instruction evolution from the metric's text feedback.

    Exactly one budget is set: `auto`, `max_metric_calls` or `max_full_evals`.
    """

    name: Literal["gepa"]
    auto: Literal["light", "medium", "heavy"] | None = None
    max_metric_calls: int | None = Field(default=None, ge=1, description="metric calls, each one generation job")
    max_full_evals: int | None = Field(default=None, ge=1, description="budget in full passes over train and validation jobs")
    reflection_minibatch_size: int = Field(default=1, ge=1, description="jobs shown to the reflection LM per proposal")
    candidate_selection_strategy: Literal["pareto", "current_best"] = "pareto"
    use_merge: bool = False
    feedback_max_chars: int = Field(default=1200, ge=200, le=20000, description="cap on the feedback text per job")
    num_threads: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def validate_budget(self) -> GepaSettings:
        budgets = {"auto": self.auto, "max_metric_calls": self.max_metric_calls, "max_full_evals": self.max_full_evals}
        chosen = [name for name, value in budgets.items() if value is not None]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of auto, max_metric_calls, max_full_evals; got {chosen or 'none'}")
        return self


class RandomSearchSettings(_Table):
    """BootstrapFewShotWithRandomSearch: bootstrapped demo sets, each scored on the validation jobs.

    It scores `num_candidate_programs` demo sets plus three baselines (no demos, labelled
    demos only, unshuffled bootstrap), so the metric runs about
    (num_candidate_programs + 3) x validation jobs times, plus the bootstrap runs.
    """

    name: Literal["bootstrap_random_search"]
    num_candidate_programs: int = Field(default=2, ge=1)
    max_bootstrapped_demos: int = Field(default=1, ge=1, description="bootstrapped demos per predictor")
    max_rounds: int = Field(default=1, ge=1)
    metric_threshold: float | None = Field(default=None, ge=0, le=1, description="minimum macro-F1 for a trace to become a demo")
    num_threads: int = Field(default=1, ge=1)


OptimizerSettings = Annotated[MiproSettings | GepaSettings | RandomSearchSettings, Field(discriminator="name")]


class GoldSettings(_Table):
    """The gold set and its split into an optimisation part and a held-out part.

    The optimiser scores candidates only on the optimisation part; the held-out part is
    used once, for the before/after report.
    """

    path: str = Field(default="eval/gold/demo.jsonl", description="labelled file, or 'reference' for the SynSym reference set")
    format: str = Field(default="auto", description="format of the labelled file (see synsym.evaluation.data)")
    sample: int | None = Field(default=None, ge=10, description="posts drawn at random from the set before splitting; None keeps all")
    holdout_fraction: float = Field(default=0.4, gt=0, lt=1)
    seed: int = Field(default=0, ge=0, description="seed of the sample and of the stratified split")


class ClassifierSettings(_Table):
    """The classifier trained on each generated data set."""

    name: Literal["tfidf", "embedding", "finetune"] = "tfidf"
    params: dict[str, object] = Field(default_factory=dict)
    threshold: float | Literal["tuned"] = 0.5
    bootstrap: int = Field(default=1000, ge=0, description="resamples of the held-out 95% interval")


class GenerationSettings(_Table):
    """The part of `GenerationConfig` that every generation job shares (the size per metric call)."""

    taxonomy: str = "depression14"
    symptoms: list[str] | None = Field(default=None, description="labels to optimise for; None means all")
    styles: list[str] = Field(default_factory=lambda: ["clinical", "colloquial"], min_length=1)
    style_guides: dict[str, str] = Field(default_factory=dict)
    expansion: bool = True
    sub_concepts_per_symptom: int = Field(default=1, ge=1, le=64)
    posts_per_unit: int = Field(default=2, ge=1, le=20)
    composition: bool = True
    combinations: int = Field(default=1, ge=0)
    combination_source: Literal["prior", "lm", "uniform"] = "prior"
    judge: bool = True
    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=0, le=5)
    max_attempts: int = Field(default=2, ge=1, le=10)


class JobSettings(_Table):
    """The cut of the symptoms into generation jobs (the optimiser's examples).

    The symptoms are split, in taxonomy order, into groups of `symptoms_per_job`; each
    group makes one job per seed. Training jobs feed bootstrapping and reflection, and
    validation jobs score candidates.
    """

    symptoms_per_job: int | None = Field(default=4, ge=1, description="labels per job; None puts every label in one job")
    train_seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    val_seeds: list[int] = Field(default_factory=lambda: [1], min_length=1)

    @model_validator(mode="after")
    def validate_seeds(self) -> JobSettings:
        shared = sorted(set(self.train_seeds) & set(self.val_seeds))
        if shared:
            raise ValueError(f"train_seeds and val_seeds share {shared}; use distinct seeds so validation jobs differ")
        return self


class Recipe(_Table):
    """One optimisation: what to optimise with, against what, and where the program goes."""

    name: str = Field(description="program name: the result is programs/<name>.json")
    description: str = ""
    optimizer: OptimizerSettings
    lm: LMSettings = Field(default_factory=LMSettings)
    prompt_lm: LMSettings | None = Field(default=None, description="LM that proposes or reflects; None uses lm")
    gold: GoldSettings = Field(default_factory=GoldSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    program: str | None = Field(default=None, description="starting program state (JSON); None uses the built-in prompts")
    output_dir: str = Field(default="programs", description="folder of the program file and its manifest")
    work_dir: str | None = Field(default=None, description="optimisation folder (metric cache, logs); default runs/optimize/<name>")

    @field_validator("name")
    @classmethod
    def validate_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError(f"name {value!r} must be letters, digits, '.', '_' or '-' (it becomes a file name)")
        return value

    @field_validator("program", "work_dir", mode="before")
    @classmethod
    def normalize_empty(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def resolved_prompt_lm(self) -> LMSettings:
        return self.prompt_lm or self.lm

    @property
    def resolved_work_dir(self) -> Path:
        return Path(self.work_dir) if self.work_dir else Path("runs") / "optimize" / self.name

    @property
    def program_path(self) -> Path:
        return Path(self.output_dir) / f"{self.name}.json"

    @property
    def manifest_path(self) -> Path:
        return Path(self.output_dir) / f"{self.name}.manifest.json"


def parse_recipe(data: dict[str, object], source: str = "<settings>") -> Recipe:
    """Validate a recipe mapping, raising RecipeError that lists each invalid field."""
    try:
        return Recipe.model_validate(data)
    except ValidationError as error:
        raise RecipeError(format_validation_error(error, f"invalid optimisation recipe {source}:")) from None


def load_recipe(path: str | Path) -> Recipe:
    """Read a TOML recipe.

    Raises:
        RecipeError: the file is missing, is not valid TOML, or has an invalid field.
    """
    data = read_toml(path, RecipeError, "recipe", "optimizers/mipro-local.toml")
    return parse_recipe(data, source=str(path))
