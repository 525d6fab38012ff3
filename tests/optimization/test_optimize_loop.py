"""The whole optimisation loop with the scripted LM: each optimiser writes a program and a manifest."""

from __future__ import annotations

import json

import pytest

from synsym.modules import SynSymProgram, program_fingerprint
from synsym.optimization import run_optimization
from synsym.optimization.recipe import RecipeError
from synsym.optimization.scripted import ScriptedLM
from synsym.programs import load_program

OPTIMIZERS = {
    "bootstrap_random_search": {"name": "bootstrap_random_search", "num_candidate_programs": 1, "max_bootstrapped_demos": 1},
    "mipro": {"name": "mipro", "num_candidates": 2, "num_trials": 2, "max_bootstrapped_demos": 1},
    "gepa": {"name": "gepa", "max_metric_calls": 8},
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_optimizer_writes_program_and_manifest(make_recipe, optimizer):
    recipe = make_recipe(OPTIMIZERS[optimizer])

    result = run_optimization(recipe)

    assert result.program_path.name == "demo-dummy.json"
    assert result.manifest_path.name == "demo-dummy.manifest.json"
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["optimizer"]["name"] == optimizer
    assert manifest["lm"]["name"] == "dummy"
    assert manifest["prompt_lm"]["name"] == "dummy"
    assert len(manifest["gold"]["fingerprint"]) == 16
    for side in ("before", "after"):
        score = manifest["held_out_macro_f1"][side]
        assert 0.0 <= score["macro_f1"] <= 1.0
        assert score["macro_f1_ci95"] is not None
        assert score["n_test"] == manifest["gold"]["held_out_posts"]
    assert manifest["usage"]["evaluations"] >= 1
    assert manifest["usage"]["metric_calls"] >= 1
    assert manifest["wall_seconds"] >= 0
    assert manifest["synsym_version"] and manifest["dspy_version"]
    loaded = load_program(result.program_path)
    assert program_fingerprint(loaded) == manifest["program_fingerprint"]["after"]


def test_mipro_changes_instructions(make_recipe):
    result = run_optimization(make_recipe(OPTIMIZERS["mipro"]))

    manifest = result.manifest
    assert manifest["program_fingerprint"]["after"] != manifest["program_fingerprint"]["before"]
    assert manifest["usage"]["prompt_requests"] > 0


def test_random_search_saves_demos_as_json(make_recipe):
    recipe = make_recipe(OPTIMIZERS["bootstrap_random_search"])

    result = run_optimization(recipe)

    # Demos hold Pydantic values (sub-concepts, judge scores); the file must stay plain JSON.
    payload = json.loads(result.program_path.read_text())
    assert set(payload["state"]) == {name for name, _ in SynSymProgram().named_predictors()}


def test_gepa_reflection_prompt_contains_feedback(make_recipe):
    recipe = make_recipe(OPTIMIZERS["gepa"])
    prompt_lm = ScriptedLM()

    run_optimization(recipe, prompt_lm=prompt_lm)

    prompts = ["\n".join(str(message.get("content")) for message in entry["messages"]) for entry in prompt_lm.history]
    assert prompts, "the reflection LM was never called"
    assert any("macro-F1" in prompt and "gold posts" in prompt for prompt in prompts)


def test_rerun_answers_metric_from_cache(make_recipe):
    recipe = make_recipe(OPTIMIZERS["bootstrap_random_search"])
    first = run_optimization(recipe)

    second = run_optimization(recipe)

    usage = second.manifest["usage"]
    assert usage["metric_calls"] == first.manifest["usage"]["metric_calls"]
    assert usage["metric_cache_hits"] == usage["metric_calls"]


def test_work_dir_with_other_settings_is_rejected(make_recipe):
    run_optimization(make_recipe(OPTIMIZERS["bootstrap_random_search"]))
    changed = make_recipe(OPTIMIZERS["mipro"])

    with pytest.raises(RecipeError, match="optimizer"):
        run_optimization(changed)


def test_fresh_discards_earlier_run(make_recipe):
    run_optimization(make_recipe(OPTIMIZERS["bootstrap_random_search"]))

    result = run_optimization(make_recipe(OPTIMIZERS["mipro"]), fresh=True)

    assert result.manifest["usage"]["metric_cache_hits"] < result.manifest["usage"]["metric_calls"]
