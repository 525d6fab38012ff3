"""Recipe validation, cell planning, the shipped recipes and the `synsym study` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from synsym.study import StudyError, load_recipe, parse_recipe, plan_cells
from synsym.study.gold import GoldSets
from synsym.study.recipe import GoldSet

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLD = [{"path": "gold.csv"}]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"gold": GOLD, "colour": "blue"}, r"colour: Extra inputs are not permitted \(value: 'blue'\)"),
        ({"gold": GOLD, "variants": [{"name": "x", "expand": False}]}, r"'expand' is not a generation setting"),
        ({"gold": GOLD, "variants": [{"name": "x", "threshold": 9}]}, r"variant\.threshold: Input should be less than or equal to 5 \(value: 9\)"),
        ({"gold": GOLD, "base": {"posts_per_unit": "many"}}, r"base\.posts_per_unit: Input should be a valid integer.*\(value: 'many'\)"),
        ({"gold": GOLD, "base": {"seed": 3}}, r"'seed' is set by the study per cell"),
        ({"gold": GOLD, "variants": [{"name": "a"}, {"name": "a"}]}, r"variant name 'a' is used twice"),
        ({"gold": GOLD, "variants": [{"name": "a b"}]}, r"variant name 'a b' is invalid"),
        ({"gold": GOLD, "sweeps": [{"field": "threshold", "values": [1], "variants": ["full"]}]}, r"sweeps\[0\] names variant 'full'"),
        ({"gold": GOLD, "sweeps": [{"field": "threshold", "values": []}]}, r"sweeps\.0\.values: List should have at least 1 item"),
        ({"gold": GOLD, "seeds": [1, 1]}, r"seeds: seeds \[1, 1\] must be distinct"),
        ({}, r"gold: Field required"),
        ({"gold": [{"path": "a.csv"}, {"path": "b/a.csv"}]}, r"gold set name 'a' is used twice"),
        ({"gold": [{"path": "a.csv", "sample": 1}]}, r"gold\.0\.sample: Input should be greater than or equal to 2 \(value: 1\)"),
        ({"gold": GOLD, "evaluation": {"classifier": "svm"}}, r"evaluation\.classifier: Input should be 'tfidf', 'embedding' or 'finetune' \(value: 'svm'\)"),
    ],
)
def test_invalid_recipe_names_field_and_value(settings, message):
    with pytest.raises(StudyError, match=message):
        parse_recipe(settings, source="recipe.toml")


def test_recipe_error_names_source():
    with pytest.raises(StudyError, match=r"^invalid study recipe recipe\.toml:"):
        parse_recipe({"gold": GOLD, "colour": "blue"}, source="recipe.toml")


def test_sweep_crosses_only_named_variants():
    recipe = parse_recipe({
        "gold": GOLD,
        "seeds": [0, 1],
        "variants": [{"name": "full"}, {"name": "no_judge", "judge": False}],
        "sweeps": [{"field": "threshold", "values": [2, 4], "variants": ["full"]}],
    })
    cells = plan_cells(recipe, "study")
    assert [cell.name for cell in cells] == [
        "full-threshold2-seed0", "full-threshold4-seed0", "no_judge-seed0",
        "full-threshold2-seed1", "full-threshold4-seed1", "no_judge-seed1",
    ]
    assert cells[1].config.threshold == 4
    assert cells[1].config.output == str(Path("study") / "runs" / "full-threshold4-seed0")
    assert cells[3].config.seed == 1


def test_threshold_cells_share_generation_key():
    recipe = parse_recipe({"gold": GOLD, "sweeps": [{"field": "threshold", "values": [2, 4]}]})
    first, second = plan_cells(recipe, "study")
    assert first.generation_key() == second.generation_key()


def test_several_lms_cross_every_variant():
    recipe = parse_recipe({"gold": GOLD, "lms": ["local", "openai/gpt-4o-mini"], "variants": [{"name": "full"}]})
    cells = plan_cells(recipe, "study")
    assert [cell.name for cell in cells] == ["full-local-seed0", "full-gpt-4o-mini-seed0"]
    assert cells[1].config.lm == "openai/gpt-4o-mini"


@pytest.mark.parametrize(("name", "cells"), [("ablation.toml", 10), ("threshold_sweep.toml", 18), ("tiny.toml", 14)])
def test_shipped_recipes_are_valid(name, cells):
    recipe = load_recipe(REPO_ROOT / "eval" / "studies" / name)
    assert len(plan_cells(recipe, recipe.output)) == cells
    assert recipe.output.startswith("runs/studies/")


def test_ablation_recipe_drops_one_stage_per_variant():
    recipe = load_recipe(REPO_ROOT / "eval" / "studies" / "ablation.toml")
    overrides = {variant.name: variant.overrides for variant in recipe.variants}
    assert overrides == {
        "full": {},
        "no_expansion": {"expansion": False},
        "clinical_only": {"styles": ["clinical"]},
        "no_composition": {"composition": False},
        "no_judge": {"judge": False},
    }


def test_missing_recipe_file_is_reported(tmp_path):
    with pytest.raises(StudyError, match="not found"):
        load_recipe(tmp_path / "missing.toml")


def run_cli(*arguments):
    environment = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "-m", "synsym", "study", *arguments], capture_output=True, text=True, timeout=120, env=environment)


def test_cli_dry_run_lists_cells(tmp_path):
    completed = run_cli(str(REPO_ROOT / "eval" / "studies" / "tiny.toml"), "--output", str(tmp_path / "s"), "--dry-run")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 14
    assert lines[0] == f"full-threshold2-seed0\t{tmp_path / 's' / 'runs' / 'full-threshold2-seed0'}"


def test_cli_invalid_recipe_exits_2(tmp_path):
    recipe = tmp_path / "bad.toml"
    recipe.write_text('[[gold]]\npath = "reference"\n[[variants]]\nname = "x"\njudge = "sometimes"\n', encoding="utf-8")
    completed = run_cli(str(recipe), "--dry-run")
    assert completed.returncode == 2
    assert "variant.judge: Input should be a valid boolean" in completed.stderr
    assert "'sometimes'" in completed.stderr


REFERENCE = Path(os.environ.get("SYNSYM_REFERENCE_DIR", REPO_ROOT.parent / "shared/data/synsym-reference")) / "dev.csv"


@pytest.mark.skipif(not REFERENCE.is_file(), reason="needs the SynSym reference set (dev.csv)")
def test_reference_gold_sample_restricted_to_generated_labels():
    gold = GoldSets([GoldSet(sample=300)], "depression14")
    spec = gold.specs[0]
    sample = gold.load(spec)
    assert 250 <= len(sample) <= 350
    restricted = gold.for_cell(spec, "depression14", ["Sleep_disturbance", "Pessimism"])
    assert sorted(restricted.label_names) == ["Pessimism", "Sleep_disturbance"]
    assert len(restricted) == len(sample)
