"""The gold set's split into an optimisation part and a held-out part."""

from __future__ import annotations

import pytest

from synsym.evaluation.runner import EvaluationError, reference_set_path
from synsym.optimization.gold import fingerprint_set, prepare_gold
from synsym.optimization.recipe import GoldSettings


def test_held_out_part_is_disjoint_from_optimisation_part(demo_gold):
    split = prepare_gold(GoldSettings(path=str(demo_gold), holdout_fraction=0.4, seed=0))

    optimization = set(split.optimization.texts)
    held_out = set(split.held_out.texts)
    assert not optimization & held_out
    assert len(optimization) + len(held_out) == 140


def test_split_keeps_every_label_on_both_sides(demo_gold):
    split = prepare_gold(GoldSettings(path=str(demo_gold), holdout_fraction=0.4, seed=0))

    for part in (split.optimization, split.held_out):
        assert part.label_matrix().sum(axis=0).min() > 0


def test_split_is_fixed_by_seed(demo_gold):
    first = prepare_gold(GoldSettings(path=str(demo_gold), seed=3))
    second = prepare_gold(GoldSettings(path=str(demo_gold), seed=3))
    other = prepare_gold(GoldSettings(path=str(demo_gold), seed=4))

    assert first.held_out.texts == second.held_out.texts
    assert first.held_out.texts != other.held_out.texts
    assert first.fingerprint == other.fingerprint


def test_fingerprint_ignores_post_order(demo_gold):
    split = prepare_gold(GoldSettings(path=str(demo_gold)))
    data = split.optimization

    reversed_data = data.subset(list(range(len(data)))[::-1])

    assert fingerprint_set(reversed_data) == fingerprint_set(data)


def test_sample_draws_fixed_number_of_posts(demo_gold):
    split = prepare_gold(GoldSettings(path=str(demo_gold), sample=50, seed=1))

    assert len(split.optimization) + len(split.held_out) == 50


def test_reference_gold_set_is_sampled_at_run_time():
    try:
        reference_set_path()
    except EvaluationError:
        pytest.skip("the SynSym reference set is not available")

    split = prepare_gold(GoldSettings(path="reference", sample=200, seed=0))

    assert len(split.optimization) + len(split.held_out) == 200
    assert not set(split.optimization.texts) & set(split.held_out.texts)
