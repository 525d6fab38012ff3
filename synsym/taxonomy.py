"""Symptom taxonomies: label names, definitions, the co-occurrence prior and label views.

A taxonomy is data. The default (`depression14`) ships with the package; any other is
loaded from a YAML or JSON file with the same fields. Validation errors name the field
and the value, so a malformed file can be fixed from the message alone.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

logger = logging.getLogger(__name__)

BUILTIN_TAXONOMIES = ("depression14",)
DEFAULT_TAXONOMY = "depression14"


class TaxonomyError(ValueError):
    """A taxonomy file or name that cannot be used."""


class Symptom(BaseModel):
    """One symptom class: its label name and a short clinical definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Label name, used verbatim in data sets.")
    definition: str = Field(min_length=1, description="One or two sentences that say what the symptom is.")

    @field_validator("name")
    @classmethod
    def validate_name(cls, value: str) -> str:
        if value != value.strip() or any(ch in value for ch in ";\n\t"):
            raise ValueError(f"label name {value!r} must not contain ';', tabs, newlines or outer spaces")
        return value


class Cluster(BaseModel):
    """A group of symptoms that tend to co-occur; pairs inside it get `affinity` as a weight factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    symptoms: list[str] = Field(min_length=2)
    affinity: float = Field(gt=0)


class CombinationConstraint(BaseModel):
    """A rule for one symptom in multi-symptom combinations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symptom: str
    min_combination_size: int = Field(default=2, ge=2)
    requires_any: list[str] = Field(default_factory=list)


class CooccurrencePrior(BaseModel):
    """A declarative prior over multi-symptom combinations.

    `combination_sizes` maps a size (2 to 5 in the SynSym method) to a relative weight.
    `symptom_weights` gives each symptom's relative propensity to appear in a combination
    (a missing symptom has weight 1). A pair of symptoms that share a cluster has its
    weight multiplied by that cluster's affinity, so clustered symptoms are drawn together.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    combination_sizes: dict[int, float] = Field(default_factory=lambda: {2: 0.4, 3: 0.3, 4: 0.2, 5: 0.1})
    symptom_weights: dict[str, float] = Field(default_factory=dict)
    clusters: list[Cluster] = Field(default_factory=list)
    constraints: list[CombinationConstraint] = Field(default_factory=list)

    @field_validator("combination_sizes")
    @classmethod
    def validate_sizes(cls, value: dict[int, float]) -> dict[int, float]:
        if not value:
            raise ValueError("combination_sizes must name at least one size")
        for size, weight in value.items():
            if size < 2:
                raise ValueError(f"combination size {size} is invalid: a combination has at least 2 symptoms")
            if weight < 0:
                raise ValueError(f"weight {weight} for combination size {size} must not be negative")
        if sum(value.values()) <= 0:
            raise ValueError("combination_sizes weights must not all be zero")
        return value

    @field_validator("symptom_weights")
    @classmethod
    def validate_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if weight < 0:
                raise ValueError(f"symptom weight {weight} for {name!r} must not be negative")
        return value


class Taxonomy(BaseModel):
    """A set of symptom classes with everything needed to generate and map labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    language: str = "en"
    symptoms: list[Symptom] = Field(min_length=2)
    cooccurrence: CooccurrencePrior = Field(default_factory=CooccurrencePrior)
    views: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Named label views: view name -> {view label: [taxonomy labels that map onto it]}.",
    )
    styles: dict[str, str] = Field(
        default_factory=dict,
        description="Writing styles offered with this taxonomy: style name -> description for the LM.",
    )

    @model_validator(mode="after")
    def validate_references(self) -> Taxonomy:
        names = [symptom.name for symptom in self.symptoms]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"symptoms: label {name!r} appears more than once")
            seen.add(name)

        def check(where: str, name: str) -> None:
            if name not in seen:
                raise ValueError(f"{where}: {name!r} is not a symptom of this taxonomy (known: {', '.join(names)})")

        prior = self.cooccurrence
        for name in prior.symptom_weights:
            check("cooccurrence.symptom_weights", name)
        for index, cluster in enumerate(prior.clusters):
            for name in cluster.symptoms:
                check(f"cooccurrence.clusters[{index}].symptoms", name)
        for index, constraint in enumerate(prior.constraints):
            check(f"cooccurrence.constraints[{index}].symptom", constraint.symptom)
            for name in constraint.requires_any:
                check(f"cooccurrence.constraints[{index}].requires_any", name)
        for view_name, mapping in self.views.items():
            for view_label, members in mapping.items():
                for name in members:
                    check(f"views.{view_name}.{view_label}", name)
        return self

    @property
    def labels(self) -> list[str]:
        """Label names in taxonomy order (the column order of every label matrix)."""
        return [symptom.name for symptom in self.symptoms]

    def symptom(self, name: str) -> Symptom:
        """Return the symptom called `name`, or raise `KeyError` listing the known names."""
        for symptom in self.symptoms:
            if symptom.name == name:
                return symptom
        raise KeyError(f"unknown symptom {name!r}; known: {', '.join(self.labels)}")

    def view(self, name: str) -> dict[str, list[str]]:
        """Return the label view `name` (for example `phq9`)."""
        if name not in self.views:
            known = ", ".join(self.views) or "none"
            raise KeyError(f"taxonomy {self.name!r} has no label view {name!r}; views: {known}")
        return self.views[name]

    def map_labels(self, labels: list[str], view: str) -> list[str]:
        """Map taxonomy labels to the labels of `view`; labels with no counterpart are dropped."""
        mapping = self.view(view)
        mapped = [view_label for view_label, members in mapping.items() if any(label in members for label in labels)]
        return mapped


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"invalid taxonomy in {source}:"]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"  {location}: {item['msg']} (value: {shown})")
    lines.append("Fix the named fields; see synsym/resources/taxonomies/depression14.yaml for a complete example.")
    return "\n".join(lines)


def parse_taxonomy(data: object, source: str = "<data>") -> Taxonomy:
    """Validate a parsed YAML/JSON object as a taxonomy, raising `TaxonomyError` with field names."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"invalid taxonomy in {source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as error:
        raise TaxonomyError(_format_validation_error(error, source)) from None


def load_taxonomy(spec: str | Path = DEFAULT_TAXONOMY) -> Taxonomy:
    """Load a built-in taxonomy by name, or a taxonomy file (`.yaml`, `.yml` or `.json`).

    Raises:
        TaxonomyError: the name is unknown, the file is missing or unreadable, or a field is invalid.
    """
    text_spec = str(spec)
    if text_spec in BUILTIN_TAXONOMIES:
        resource = resources.files("synsym.resources.taxonomies").joinpath(f"{text_spec}.yaml")
        return parse_taxonomy(yaml.safe_load(resource.read_text(encoding="utf-8")), source=f"built-in {text_spec!r}")

    path = Path(text_spec)
    if not path.exists():
        raise TaxonomyError(
            f"taxonomy {text_spec!r} not found: pass a built-in name ({', '.join(BUILTIN_TAXONOMIES)}) "
            "or the path of a YAML or JSON file"
        )
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise TaxonomyError(f"taxonomy file {path} has suffix {suffix!r}; use .yaml, .yml or .json")
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise TaxonomyError(f"taxonomy file {path} is not valid {suffix.lstrip('.').upper()}: {error}") from None
    return parse_taxonomy(data, source=str(path))
