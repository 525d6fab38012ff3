"""The metric: scores, memoisation and GEPA feedback."""

from __future__ import annotations

import dspy
import pytest

from synsym.dataset import GeneratedData
from synsym.optimization import metric as metric_module
from synsym.optimization.gold import prepare_gold
from synsym.optimization.jobs import build_jobs
from synsym.optimization.metric import GenerationMetric, MetricCache, cap_text
from synsym.optimization.scripted import ScriptedLM
from synsym.modules import SynSymProgram


@pytest.fixture
def job_and_data(make_recipe):
    recipe = make_recipe()
    job = build_jobs(recipe, [1])[0]
    lm = ScriptedLM()
    with dspy.context(lm=lm):
        data = SynSymProgram()(**job.inputs())
    return recipe, job, data, lm


def test_metric_returns_macro_f1(job_and_data):
    recipe, job, data, _ = job_and_data
    metric = GenerationMetric(prepare_gold(recipe.gold).optimization, recipe.classifier)

    score = metric(job, data)

    assert isinstance(score, float)
    assert 0.0 <= score <= 1.0


def test_second_metric_call_is_cache_hit(job_and_data, tmp_path, monkeypatch):
    recipe, job, data, lm = job_and_data
    gold = prepare_gold(recipe.gold).optimization
    cache = MetricCache(tmp_path / "metric_cache.json")
    metric = GenerationMetric(gold, recipe.classifier, cache)
    first = metric(job, data)
    requests = lm.requests

    def fail(*args, **kwargs):
        raise AssertionError("the classifier was trained again")

    monkeypatch.setattr(metric_module, "score_data_set", fail)
    second = metric(job, data)

    assert second == first
    assert cache.hits == 1
    assert cache.misses == 1
    assert lm.requests == requests


def test_metric_cache_survives_restart(job_and_data, tmp_path, monkeypatch):
    recipe, job, data, _ = job_and_data
    gold = prepare_gold(recipe.gold).optimization
    path = tmp_path / "metric_cache.json"
    first = GenerationMetric(gold, recipe.classifier, MetricCache(path))(job, data)
    monkeypatch.setattr(metric_module, "score_data_set", lambda *args, **kwargs: pytest.fail("cache missed"))

    reloaded = MetricCache(path)
    second = GenerationMetric(gold, recipe.classifier, reloaded)(job, data)

    assert second == first
    assert reloaded.hits == 1


def test_other_classifier_settings_miss_cache(job_and_data, tmp_path):
    recipe, job, data, _ = job_and_data
    gold = prepare_gold(recipe.gold).optimization
    cache = MetricCache(tmp_path / "metric_cache.json")
    GenerationMetric(gold, recipe.classifier, cache)(job, data)
    tuned = recipe.classifier.model_copy(update={"threshold": 0.3})

    GenerationMetric(gold, tuned, cache)(job, data)

    assert cache.misses == 2


def test_gepa_feedback_names_weak_symptoms_and_rejects(job_and_data):
    recipe, job, data, _ = job_and_data
    assert data.rejects, "the scripted judge should reject some posts"
    metric = GenerationMetric(prepare_gold(recipe.gold).optimization, recipe.classifier, feedback=True, feedback_max_chars=2000)

    result = metric(job, data, None, "writer.predict", None)

    assert isinstance(result, dspy.Prediction)
    assert 0.0 <= result.score <= 1.0
    assert "macro-F1" in result.feedback
    assert any(f"- {label}: F1" in result.feedback for label in job.config.symptoms)
    assert "Judge rejects: below threshold" in result.feedback
    assert "This predictor (writer.predict)" in result.feedback


def test_gepa_feedback_is_capped(job_and_data):
    recipe, job, data, _ = job_and_data
    metric = GenerationMetric(prepare_gold(recipe.gold).optimization, recipe.classifier, feedback=True, feedback_max_chars=200)

    result = metric(job, data, None, "judge.predict", None)

    assert len(result.feedback) <= 200
    assert result.feedback.endswith("[...truncated]")


def test_empty_data_set_scores_zero_with_reason(job_and_data):
    recipe, job, _, _ = job_and_data
    metric = GenerationMetric(prepare_gold(recipe.gold).optimization, recipe.classifier, feedback=True)

    result = metric(job, GeneratedData(rows=[], rejects=[], usage={"failed_units": 2}))

    assert result.score == 0.0
    assert "no post was kept" in result.feedback


def test_failed_program_scores_zero(job_and_data):
    recipe, job, _, _ = job_and_data
    metric = GenerationMetric(prepare_gold(recipe.gold).optimization, recipe.classifier)

    assert metric(job, dspy.Prediction()) == 0.0


def test_cap_text_keeps_short_text():
    assert cap_text("short", 100) == "short"
