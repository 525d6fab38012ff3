"""The generation config: every setting of a run, serialisable and validated.

A run folder stores its resolved config as `config.json`; `synsym generate --config
RUN/config.json` reruns it. Settings in `RESUMABLE_FIELDS` may differ between a run and
its resumption because they change neither which LM calls are made nor their prompts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synsym.settings_files import format_validation_error

DEFAULT_THRESHOLD = 3

# Settings that may change when a run folder is resumed.
RESUMABLE_FIELDS = frozenset({"threads", "threshold", "max_attempts", "output"})


class ConfigError(ValueError):
    """A generation setting that is invalid or conflicts with an existing run."""


class GenerationConfig(BaseModel):
    """Settings of one `synsym generate` run.

    Counts are per unit of work: `posts_per_unit` posts come from each expression call
    (one symptom, sub-concept and style) and from each composition call (one combination).
    """

    model_config = ConfigDict(extra="forbid")

    lm: str = Field(default="local", description="`local`, `local:NAME`, `local:PATH.gguf` or a LiteLLM model string")
    api_base: str | None = Field(default=None, description="server address for LiteLLM models")
    temperature: float = Field(default=0.9, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(default=768, ge=16, description="maximum completion tokens per LM call")
    grammar: Literal["auto", "off", "json", "schema"] = Field(
        default="auto", description="decoding constraint for local models; auto uses the model's own choice"
    )
    program: str | None = Field(default=None, description="path of a saved program state (JSON); None uses the built-in prompts")
    taxonomy: str = Field(default="depression14", description="built-in taxonomy name or path of a YAML/JSON taxonomy file")
    symptoms: list[str] | None = Field(default=None, description="restrict the run to these labels; None means all")
    styles: list[str] = Field(default_factory=lambda: ["clinical", "colloquial"], min_length=1)
    style_guides: dict[str, str] = Field(
        default_factory=dict, description="extra or overriding style descriptions: style name -> guide for the LM"
    )
    expansion: bool = Field(default=True, description="expand symptoms into sub-concepts; off uses the bare symptom and definition")
    sub_concepts_per_symptom: int = Field(default=2, ge=1, le=64)
    posts_per_unit: int = Field(default=2, ge=1, le=20, description="posts requested per expression or composition call")
    composition: bool = Field(default=True, description="write multi-symptom posts")
    combinations: int = Field(default=10, ge=0, description="number of multi-symptom combinations")
    combination_source: Literal["prior", "lm", "uniform"] = Field(default="prior")
    judge: bool = Field(default=True, description="score posts with the LLM judge and drop weak ones")
    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=0, le=5, description="minimum judge score (0-5) every label of a kept post needs")
    threads: int = Field(default=4, ge=1, le=64, description="parallel LM calls for remote LMs; local models run one call at a time")
    max_attempts: int = Field(default=3, ge=1, le=10, description="tries per unit before it is recorded as failed")
    seed: int = Field(default=0, ge=0)
    output: str = Field(default="runs/synsym-run", description="run folder")

    @field_validator("styles")
    @classmethod
    def validate_styles(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"styles {value} repeat a name")
        return value

    def generation_fields(self) -> dict:
        """Return the settings that decide the LM calls (everything but `RESUMABLE_FIELDS`)."""
        return {key: value for key, value in self.model_dump().items() if key not in RESUMABLE_FIELDS}


def format_config_error(error: ValidationError, source: str) -> str:
    """Render a Pydantic error as lines that name each invalid setting and its value."""
    return format_validation_error(error, f"invalid generation settings in {source}:")


def load_config(path: str | Path) -> GenerationConfig:
    """Read a `config.json` written by a run (or by hand)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"config file {path} is not valid JSON: {error}") from None
    data.pop("synsym_version", None)
    try:
        return GenerationConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_config_error(error, str(path))) from None
