"""Shared fixtures: the default taxonomy and a small generation config."""

from __future__ import annotations

import os

import pytest

from synsym.config import GenerationConfig
from synsym.taxonomy import load_taxonomy

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SMALL_SYMPTOMS = ["Depressed_Mood", "Sleep_disturbance", "Suicidal_ideas", "Pessimism"]


@pytest.fixture
def taxonomy():
    return load_taxonomy("depression14")


@pytest.fixture
def small_config(tmp_path) -> GenerationConfig:
    return GenerationConfig(
        symptoms=SMALL_SYMPTOMS,
        sub_concepts_per_symptom=2,
        posts_per_unit=2,
        combinations=2,
        output=str(tmp_path / "run"),
    )
