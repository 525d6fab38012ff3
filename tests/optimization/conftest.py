"""Fixtures for the optimisation tests: the demo-dummy recipe with its outputs in a temporary folder."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from synsym.optimization.recipe import Recipe, parse_recipe

REPO_ROOT = Path(__file__).resolve().parents[2]

DEMO_RECIPE = REPO_ROOT / "optimizers" / "demo-dummy.toml"
DEMO_GOLD = REPO_ROOT / "eval" / "gold" / "demo.jsonl"


@pytest.fixture
def demo_gold() -> Path:
    return DEMO_GOLD


@pytest.fixture
def demo_recipe() -> Path:
    return DEMO_RECIPE


@pytest.fixture
def recipe_data(tmp_path) -> dict:
    """The demo-dummy recipe as a mapping, writing under tmp_path and reading the demo gold set."""
    data = tomllib.loads(DEMO_RECIPE.read_text(encoding="utf-8"))
    data["output_dir"] = str(tmp_path / "programs")
    data["work_dir"] = str(tmp_path / "work")
    data["gold"]["path"] = str(DEMO_GOLD)
    return data


@pytest.fixture
def make_recipe(recipe_data):
    """Build a Recipe from the demo one with another optimiser table."""

    def build(optimizer: dict | None = None, **changes) -> Recipe:
        data = copy.deepcopy(recipe_data)
        if optimizer is not None:
            data["optimizer"] = optimizer
        data.update(changes)
        return parse_recipe(data)

    return build
