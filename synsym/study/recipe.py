"""Study recipes: the declared grid of generation variants, seeds, gold sets and scoring settings.

A recipe is a TOML file (see `eval/studies/`). It names a base `GenerationConfig` (partial),
a list of variants that each override some of its fields, optional sweeps that cross
variants with a list of values for one field, the LMs, the generation seeds, the gold sets
and the classifier. `plan_cells` expands a recipe into cells: one (variant, seed) pair
with its fully resolved `GenerationConfig`.

Example:
    >>> recipe = parse_recipe({"variants": [{"name": "full"}, {"name": "no_judge", "judge": False}],
    ...                        "gold": [{"path": "gold.csv"}]})
    >>> [cell.name for cell in plan_cells(recipe, "study")]
    ['full-seed0', 'no_judge-seed0']
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synsym.config import GenerationConfig
from synsym.evaluation.data import Format
from synsym.evaluation.metrics import LabelPolicy
from synsym.settings_files import format_validation_error, read_toml

logger = logging.getLogger(__name__)

REFERENCE = "reference"

# GenerationConfig fields that the study sets per cell, so a recipe must not set them.
STUDY_OWNED_FIELDS = frozenset({"seed", "output"})

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class StudyError(ValueError):
    """A study recipe that is invalid, or a study folder that conflicts with its recipe."""


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{what} {value!r} is invalid; use letters, digits, '_', '.' and '-' (it names a run folder)"
        )
    return value


def _check_generation_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(GenerationConfig.model_fields))
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a generation setting; valid: {', '.join(sorted(set(GenerationConfig.model_fields) - STUDY_OWNED_FIELDS))}"
        )
    owned = sorted(set(fields) & STUDY_OWNED_FIELDS)
    if owned:
        raise ValueError(f"{owned[0]!r} is set by the study per cell; use the recipe's `seeds` and `output` instead")


class Variant(BaseModel):
    """One named generation variant: the base settings with some fields overridden."""

    model_config = ConfigDict(extra="allow")

    name: str

    @field_validator("name")
    @classmethod
    def validate_name(cls, value: str) -> str:
        return _check_name(value, "variant name")

    @model_validator(mode="after")
    def validate_overrides(self) -> Variant:
        _check_generation_fields(self.overrides)
        return self

    @property
    def overrides(self) -> dict[str, Any]:
        """The generation fields this variant sets."""
        return dict(self.model_extra or {})


class Sweep(BaseModel):
    """A list of values for one generation field, crossed with the variants it applies to."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="the GenerationConfig field to sweep, e.g. threshold")
    values: list[Any] = Field(min_length=1, description="one cell per value")
    variants: list[str] | None = Field(default=None, description="variant names to sweep; None sweeps every variant")

    @field_validator("field")
    @classmethod
    def validate_field(cls, value: str) -> str:
        _check_generation_fields({value: None})
        return value


class GoldSet(BaseModel):
    """A labelled test set every cell is scored on."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="name in the report; default: the file's stem or 'reference'")
    path: str = Field(default=REFERENCE, description="'reference' for the SynSym reference set, or a labelled file")
    format: Format = "auto"
    view: str | None = Field(default=None, description="label view to score in, e.g. 'phq9'")
    sample: int | None = Field(default=None, ge=2, description="score on a label-stratified sample of this many posts")
    sample_seed: int = Field(default=0, ge=0)
    label_space: Literal["generated", "all"] = Field(
        default="generated",
        description="'generated' keeps only the labels of the symptoms a cell generates; 'all' keeps every label",
    )

    @field_validator("view", mode="before")
    @classmethod
    def normalize_empty(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def label(self) -> str:
        """The name shown in reports."""
        return self.name or (REFERENCE if self.path == REFERENCE else Path(self.path).stem)


class EvaluationSettings(BaseModel):
    """Scoring settings of every cell: the classifier and its settings."""

    model_config = ConfigDict(extra="forbid")

    classifier: Literal["tfidf", "embedding", "finetune"] = "tfidf"
    classifier_params: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1, description="classifier training seeds per cell")
    threshold: float | Literal["tuned"] = 0.5
    labels: LabelPolicy = "support"
    bootstrap: int = Field(default=1000, ge=0, description="bootstrap resamples of gold posts for the 95% interval")


class ProfileSettings(BaseModel):
    """Settings of the data-set profile computed for each cell."""

    model_config = ConfigDict(extra="forbid")

    embeddings: bool = Field(default=True, description="embed posts with all-MiniLM-L6-v2 for similarity and near duplicates")
    sample_size: int = Field(default=2000, ge=2, description="posts sampled for the embedding figures")


class StudyRecipe(BaseModel):
    """Every setting of one `synsym study` run; a TOML recipe contains the same fields."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="title of the report; default: the recipe file's stem")
    output: str | None = Field(default=None, description="study folder; default: runs/studies/<recipe stem>")
    base: dict[str, Any] = Field(default_factory=dict, description="generation settings shared by every variant")
    variants: list[Variant] = Field(default_factory=lambda: [Variant(name="base")], min_length=1)
    sweeps: list[Sweep] = Field(default_factory=list)
    lms: list[str] | None = Field(default=None, min_length=1, description="LMs to cross with every variant; None: base.lm")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1, description="generation seeds")
    share_cache: bool = Field(default=True, description="keep DSPy's response cache in the study folder, shared by all cells")
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    gold: list[GoldSet] = Field(min_length=1)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)

    @field_validator("base")
    @classmethod
    def validate_base(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_generation_fields(value)
        return value

    @field_validator("seeds")
    @classmethod
    def validate_seeds(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value) or any(seed < 0 for seed in value):
            raise ValueError(f"seeds {value} must be distinct non-negative integers")
        return value

    @model_validator(mode="after")
    def validate_grid(self) -> StudyRecipe:
        names = [variant.name for variant in self.variants]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"variant name {repeated[0]!r} is used twice; give each variant its own name")
        for index, sweep in enumerate(self.sweeps):
            unknown = sorted(set(sweep.variants or []) - set(names))
            if unknown:
                raise ValueError(f"sweeps[{index}] names variant {unknown[0]!r}, which is not in variants ({', '.join(names)})")
        gold_names = [gold.label for gold in self.gold]
        repeated = sorted({name for name in gold_names if gold_names.count(name) > 1})
        if repeated:
            raise ValueError(f"gold set name {repeated[0]!r} is used twice; set `name` on each gold set")
        return self


@dataclass(frozen=True)
class Cell:
    """One (variant, seed) pair of a study, with its resolved generation settings.

    Attributes:
        name: `<variant>-seed<seed>`, also the run folder's name under `STUDY/runs/`.
        variant: The expanded variant name (sweep values and LM appended).
        seed: The generation seed.
        config: The resolved generation settings; `config.output` is the run folder.
        overrides: The settings the variant changes from the base, for the report.
    """

    name: str
    variant: str
    seed: int
    config: GenerationConfig
    overrides: dict[str, Any]

    def generation_key(self) -> str:
        """Return a digest of the settings that decide the LM calls; cells that share it share one generation."""
        return json.dumps(self.config.generation_fields(), sort_keys=True, default=str)


def parse_recipe(data: dict[str, Any], source: str = "<settings>") -> StudyRecipe:
    """Validate a recipe mapping and every cell's generation settings.

    Raises:
        StudyError: a field is invalid, or a variant's settings do not form a valid
            `GenerationConfig`; the message names the field and its value.
    """
    try:
        recipe = StudyRecipe.model_validate(data)
    except ValidationError as error:
        raise StudyError(format_validation_error(error, f"invalid study recipe {source}:")) from None
    plan_cells(recipe, "study", source=source)
    return recipe


def load_recipe(path: str | Path) -> StudyRecipe:
    """Read a TOML study recipe.

    Raises:
        StudyError: the file is missing, is not valid TOML, or has an invalid field.
    """
    path = Path(path)
    data = read_toml(path, StudyError, "study recipe", "eval/studies/ablation.toml")
    recipe = parse_recipe(data, source=str(path))
    updates = {}
    if recipe.name is None:
        updates["name"] = path.stem
    if recipe.output is None:
        updates["output"] = str(Path("runs") / "studies" / path.stem)
    return recipe.model_copy(update=updates)


def _value_slug(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "+".join(_value_slug(item) for item in value)
    text = str(value).removeprefix("local:").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-") or "x"


def expand_variants(recipe: StudyRecipe) -> list[tuple[str, dict[str, Any]]]:
    """Return (expanded name, overrides) for every variant after sweeps and LMs are applied.

    A sweep replaces each variant it applies to with one variant per value, named
    `<variant>-<field><value>`; several sweeps on one variant cross. With more than one
    LM in `lms`, every variant is crossed with them and named `<variant>-<lm>`.
    """
    expanded: list[tuple[str, dict[str, Any]]] = []
    for variant in recipe.variants:
        sweeps = [sweep for sweep in recipe.sweeps if sweep.variants is None or variant.name in sweep.variants]
        for values in itertools.product(*(sweep.values for sweep in sweeps)):
            name = variant.name
            overrides = variant.overrides
            for sweep, value in zip(sweeps, values):
                name += f"-{sweep.field}{_value_slug(value)}"
                overrides = {**overrides, sweep.field: value}
            expanded.append((name, overrides))

    if recipe.lms is None:
        return expanded
    crossed = []
    for name, overrides in expanded:
        for lm in recipe.lms:
            suffix = f"-{_value_slug(lm)}" if len(recipe.lms) > 1 else ""
            crossed.append((name + suffix, {**overrides, "lm": lm}))
    return crossed


def plan_cells(recipe: StudyRecipe, folder: str | Path, source: str = "<settings>") -> list[Cell]:
    """Expand a recipe into its cells, seed by seed, variants in recipe order.

    Raises:
        StudyError: two expanded variants get the same name, or a variant's settings are invalid.
    """
    folder = Path(folder)
    variants = expand_variants(recipe)
    names = [name for name, _ in variants]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise StudyError(f"invalid study recipe {source}: two variants expand to the name {repeated[0]!r}; rename one")

    cells = []
    for seed in recipe.seeds:
        for name, overrides in variants:
            settings = {**recipe.base, **overrides, "seed": seed, "output": str(folder / "runs" / f"{name}-seed{seed}")}
            try:
                config = GenerationConfig.model_validate(settings)
            except ValidationError as error:
                lines = [f"invalid study recipe {source}: variant {name!r} has invalid generation settings:"]
                for item in error.errors():
                    location = ".".join(str(part) for part in item["loc"]) or "(top level)"
                    origin = "variant" if location.split(".")[0] in overrides else "base"
                    lines.append(f"  {origin}.{location}: {item['msg']} (value: {item.get('input')!r})")
                raise StudyError("\n".join(lines)) from None
            cells.append(Cell(name=f"{name}-seed{seed}", variant=name, seed=seed, config=config, overrides=overrides))
    return cells

