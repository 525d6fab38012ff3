"""Recipe validation: every invalid setting fails with its field name and value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from synsym.optimization.jobs import build_jobs, symptom_groups
from synsym.optimization.recipe import RecipeError, load_recipe, parse_recipe

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RECIPES = sorted((REPO_ROOT / "optimizers").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED_RECIPES, ids=lambda path: path.name)
def test_shipped_recipes_are_valid(path):
    recipe = load_recipe(path)

    assert recipe.name == path.stem


def test_unknown_key_is_named(recipe_data):
    recipe_data["generation"]["sub_concept"] = 2

    with pytest.raises(RecipeError, match=r"generation\.sub_concept: Extra inputs are not permitted"):
        parse_recipe(recipe_data)


def test_optimizer_specific_key_is_rejected_for_other_optimizer(recipe_data):
    recipe_data["optimizer"] = {"name": "bootstrap_random_search", "max_metric_calls": 5}

    with pytest.raises(RecipeError, match="max_metric_calls"):
        parse_recipe(recipe_data)


def test_unknown_optimizer_is_named(recipe_data):
    recipe_data["optimizer"] = {"name": "copro"}

    with pytest.raises(RecipeError, match="copro"):
        parse_recipe(recipe_data)


def test_mipro_rejects_auto_with_num_trials(recipe_data):
    recipe_data["optimizer"] = {"name": "mipro", "auto": "light", "num_trials": 3}

    with pytest.raises(RecipeError, match="either auto"):
        parse_recipe(recipe_data)


def test_mipro_needs_a_budget(recipe_data):
    recipe_data["optimizer"] = {"name": "mipro", "num_candidates": 2}

    with pytest.raises(RecipeError, match="num_trials=None"):
        parse_recipe(recipe_data)


def test_gepa_needs_exactly_one_budget(recipe_data):
    recipe_data["optimizer"] = {"name": "gepa", "auto": "light", "max_metric_calls": 10}

    with pytest.raises(RecipeError, match="exactly one of"):
        parse_recipe(recipe_data)


def test_out_of_range_value_is_shown(recipe_data):
    recipe_data["gold"]["holdout_fraction"] = 1.5

    with pytest.raises(RecipeError, match=r"gold\.holdout_fraction.*value: 1\.5"):
        parse_recipe(recipe_data)


def test_name_must_be_a_file_name(recipe_data):
    recipe_data["name"] = "../escape"

    with pytest.raises(RecipeError, match="name"):
        parse_recipe(recipe_data)


def test_shared_train_and_val_seeds_are_rejected(recipe_data):
    recipe_data["jobs"] = {"train_seeds": [0, 1], "val_seeds": [1]}

    with pytest.raises(RecipeError, match=r"share \[1\]"):
        parse_recipe(recipe_data)


def test_missing_recipe_file(tmp_path):
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "absent.toml")


def test_invalid_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")

    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(path)


def test_jobs_cover_each_symptom_once_per_seed(recipe_data):
    recipe = parse_recipe(recipe_data)

    jobs = build_jobs(recipe, [5, 6])

    groups = symptom_groups(recipe)
    assert len(jobs) == 2 * len(groups)
    covered = sorted(name for job in jobs if job.config.seed == 5 for name in job.config.symptoms)
    assert covered == sorted(recipe.generation.symptoms)
    assert all(job.config.threads == 1 for job in jobs)


def test_demo_recipe_matches_file():
    data = tomllib.loads((REPO_ROOT / "optimizers" / "demo-dummy.toml").read_text())

    assert data["lm"]["model"] == "dummy"
