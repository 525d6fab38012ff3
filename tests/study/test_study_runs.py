"""A tiny study end to end with a scripted LM: switches, sharing, resume and the report."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pytest
from scripted_lm import APPETITE, SYMPTOMS, ScriptedLM, scripted_handle, tiny_recipe_settings

from synsym.study import StudyError, parse_recipe, report_study, run_study

SUB_CONCEPTS = 2
POSTS_PER_UNIT = 2


def run(settings: dict, lm: ScriptedLM | None = None, **kwargs):
    recipe = parse_recipe(settings)
    lm = lm or ScriptedLM()
    records = run_study(recipe, lm_handles={recipe.base["lm"]: scripted_handle(lm, recipe.base["lm"])}, **kwargs)
    return recipe, {record["cell"]: record for record in records}, lm


def rows(record: dict) -> list[dict]:
    lines = (Path(record["run"]) / "data.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def rejects(record: dict) -> list[dict]:
    lines = (Path(record["run"]) / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def tiny_settings(tmp_path) -> dict:
    """The tiny recipe's settings, scored on a small gold file in `tmp_path`."""
    return tiny_recipe_settings(tmp_path)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The tiny recipe with one seed, plus a user-defined style variant (run once for this module)."""
    tiny_settings = tiny_recipe_settings(tmp_path_factory.mktemp("study"))
    tiny_settings["seeds"] = [0]
    tiny_settings["variants"].append({"name": "tweet", "styles": ["tweet"], "style_guides": {"tweet": "a short tweet under 200 characters"}})
    return run(tiny_settings)


def test_full_variant_has_every_stage(study):
    _, records, _ = study
    data = rows(records["full-threshold3-seed0"])
    assert all(row["sub_concept"] for row in data if row["kind"] == "single")
    assert {row["style"] for row in data} == {"clinical", "colloquial"}
    assert any(row["kind"] == "multi" for row in data)


def test_expansion_off_has_no_sub_concepts(study):
    _, records, lm = study
    data = rows(records["no_expansion-seed0"])
    assert data
    assert all(row["sub_concept"] is None for row in data)
    assert not any(row["unit_id"].startswith("expand:") for row in data)


def test_one_style_variant_writes_only_that_style(study):
    _, records, _ = study
    assert {row["style"] for row in rows(records["clinical_only-seed0"])} == {"clinical"}
    assert records["clinical_only-seed0"]["profile"]["posts_per_style"].keys() == {"clinical"}


def test_composition_off_has_no_multi_posts(study):
    _, records, _ = study
    kinds = {row["kind"] for row in rows(records["no_composition-seed0"])}
    assert kinds == {"single"}


def test_judge_off_keeps_every_post_unscored(study):
    _, records, _ = study
    record = records["no_judge-seed0"]
    assert rejects(record) == []
    assert all(row["min_judge_score"] is None for row in rows(record))
    expected = len(SYMPTOMS) * SUB_CONCEPTS * 2 * POSTS_PER_UNIT + 2 * POSTS_PER_UNIT
    assert record["generation"]["posts_kept"] == expected


def test_user_defined_style_text_reaches_prompt(study):
    _, records, lm = study
    assert any("tweet: a short tweet under 200 characters" in prompt for prompt in lm.prompts)
    assert {row["style"] for row in rows(records["tweet-seed0"])} == {"tweet"}


def test_variants_with_same_calls_hit_shared_cache(study):
    _, records, _ = study
    assert records["full-threshold2-seed0"]["generation"]["lm_calls"] > 0
    assert records["no_judge-seed0"]["generation"]["lm_calls"] == 0
    assert records["no_composition-seed0"]["generation"]["lm_calls"] == 0


def test_threshold_variants_refilter_shared_generation(study):
    _, records, _ = study
    sweep = [records[f"full-threshold{value}-seed0"] for value in (2, 3, 4)]
    assert [record["generation"]["lm_calls"] for record in sweep[1:]] == [0, 0]
    assert [record["shared_generation_from"] for record in sweep] == [None, "full-threshold2-seed0", "full-threshold2-seed0"]
    candidates = {record["generation"]["posts_kept"] + record["generation"]["posts_rejected"] for record in sweep}
    assert len(candidates) == 1
    kept = [record["generation"]["posts_kept"] for record in sweep]
    assert kept == sorted(kept, reverse=True)
    assert kept[0] > kept[2]


def test_threshold_sweep_makes_no_extra_calls(tiny_settings, tmp_path):
    tiny_settings["seeds"] = [0]
    tiny_settings["variants"] = [{"name": "full"}]
    tiny_settings["sweeps"] = [{"field": "threshold", "values": [3]}]
    _, _, single = run(tiny_settings)

    tiny_settings["sweeps"] = [{"field": "threshold", "values": [0, 1, 2, 3, 4, 5]}]
    tiny_settings["output"] = str(tmp_path / "sweep")
    _, records, swept = run(tiny_settings)
    assert swept.calls == single.calls
    assert len(records) == 6


def test_every_cell_is_scored_on_gold(study):
    _, records, _ = study
    for record in records.values():
        score = record["scores"]["gold"]
        assert 0.0 <= score["macro_f1"] <= 1.0, record["cell"]
        assert sorted(score["labels_averaged"]) == sorted(SYMPTOMS)
        assert score["n_test"] == 9


def test_results_log_has_one_record_per_cell(study):
    recipe, records, _ = study
    lines = (Path(recipe.output) / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["cell"] for line in lines] == list(records)
    assert len(records) == 3 + 4 + 1


def test_report_lists_variants_profiles_and_chart(study):
    recipe, _, _ = study
    paths = report_study(recipe)
    text = paths["markdown"].read_text(encoding="utf-8")
    for variant in ("full-threshold3", "no_expansion", "clinical_only", "no_composition", "no_judge", "tweet"):
        assert f"| {variant} |" in text
    assert "## Macro-F1 on gold" in text
    assert "distinct-2" in text
    assert "not a clinical instrument" in text
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    summary = report["variants"]["full-threshold3"]
    assert summary["macro_f1"]["gold"]["n_seeds"] == 1
    assert len(summary["macro_f1"]["gold"]["ci95"]) == 2
    assert set(summary["data"]["posts_per_style"]) == {"clinical", "colloquial"}
    image = matplotlib.image.imread(paths["chart"])
    assert image.shape[0] > 300
    assert image.shape[1] > 600


def test_report_spread_covers_seeds(tiny_settings):
    tiny_settings["variants"] = [{"name": "full"}, {"name": "no_judge", "judge": False}]
    tiny_settings["sweeps"] = []
    tiny_settings["gold"].append({"name": "gold-appetite", "path": tiny_settings["gold"][0]["path"], "label_space": "all"})
    recipe, records, _ = run(tiny_settings)
    report = json.loads(report_study(recipe)["json"].read_text(encoding="utf-8"))
    score = report["variants"]["full"]["macro_f1"]["gold"]
    assert score["n_seeds"] == 2
    assert [entry["seed"] for entry in score["per_seed"]] == [0, 1]
    assert score["min"] <= score["mean"] <= score["max"]
    assert APPETITE in records["full-seed0"]["scores"]["gold-appetite"]["per_label"]


def test_interrupted_study_resumes_without_redoing_cells(tiny_settings, tmp_path):
    tiny_settings["seeds"] = [0]
    reference_settings = {**tiny_settings, "output": str(tmp_path / "reference")}
    _, expected, uninterrupted = run(reference_settings)

    finished_before = []
    with pytest.raises(KeyboardInterrupt):
        run(tiny_settings, ScriptedLM(interrupt_after=70), on_cell=lambda record: finished_before.append(record["cell"]))
    assert finished_before == ["full-threshold2-seed0", "full-threshold3-seed0", "full-threshold4-seed0"]

    finished_after = []
    recipe, records, resumed = run(tiny_settings, on_cell=lambda record: finished_after.append(record["cell"]))
    assert finished_after == [name for name in expected if name not in finished_before]
    assert resumed.calls == uninterrupted.calls - 70
    lines = (Path(recipe.output) / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    assert {name: record["generation"]["posts_kept"] for name, record in records.items()} == {
        name: record["generation"]["posts_kept"] for name, record in expected.items()
    }


def test_changed_classifier_redoes_cells_without_calls(tiny_settings):
    tiny_settings["seeds"] = [0]
    tiny_settings["variants"] = [{"name": "full"}]
    tiny_settings["sweeps"] = []
    run(tiny_settings)
    tiny_settings["evaluation"]["threshold"] = 0.3
    _, records, lm = run(tiny_settings)
    assert lm.calls == 0
    assert list(records) == ["full-seed0"]


def test_changed_variant_settings_conflict_with_run_folder(tiny_settings):
    tiny_settings["seeds"] = [0]
    tiny_settings["variants"] = [{"name": "full"}]
    tiny_settings["sweeps"] = []
    run(tiny_settings)
    tiny_settings["variants"] = [{"name": "full", "posts_per_unit": 3}]
    with pytest.raises(StudyError, match=r"posts_per_unit: 2 -> 3.*delete that folder"):
        run(tiny_settings)


def test_style_without_guide_fails_before_any_call(tiny_settings):
    tiny_settings["variants"].append({"name": "tweet", "styles": ["tweet"]})
    lm = ScriptedLM()
    with pytest.raises(StudyError, match=r"variant 'tweet': style 'tweet' has no description"):
        run(tiny_settings, lm)
    assert lm.calls == 0
