from collections import Counter

import pytest

from synsym.cooccurrence import clean_proposed, describe_prior, sample_combinations, satisfies_constraints


def test_sampling_is_deterministic(taxonomy):
    assert sample_combinations(taxonomy, 20, seed=3) == sample_combinations(taxonomy, 20, seed=3)
    assert sample_combinations(taxonomy, 20, seed=3) != sample_combinations(taxonomy, 20, seed=4)


def test_combinations_are_distinct_and_sized(taxonomy):
    combinations = sample_combinations(taxonomy, 100, seed=0)
    assert len({tuple(combination) for combination in combinations}) == 100
    assert all(2 <= len(combination) <= 5 for combination in combinations)


def test_suicidal_ideas_only_in_severe_combinations(taxonomy):
    for combination in sample_combinations(taxonomy, 150, seed=1):
        if "Suicidal_ideas" in combination:
            assert len(combination) >= 3
            assert {"Depressed_Mood", "Pessimism", "Worthlessness_and_guilty"} & set(combination)


def test_prior_makes_depressed_mood_central(taxonomy):
    counts = Counter(name for combination in sample_combinations(taxonomy, 150, seed=2) for name in combination)
    assert counts["Depressed_Mood"] > counts["Genitourinary_symptoms"]
    assert counts["Depressed_Mood"] > counts["Suicidal_ideas"]


def test_uniform_source_ignores_weights(taxonomy):
    prior = sample_combinations(taxonomy, 60, seed=5)
    uniform = sample_combinations(taxonomy, 60, seed=5, uniform=True)
    assert prior != uniform


def test_restricted_symptoms_are_respected(taxonomy):
    allowed = {"Depressed_Mood", "Sleep_disturbance", "Pessimism"}
    for combination in sample_combinations(taxonomy, 4, seed=0, symptoms=sorted(allowed)):
        assert set(combination) <= allowed


def test_too_many_combinations_raise(taxonomy):
    with pytest.raises(ValueError, match="lower --combinations"):
        sample_combinations(taxonomy, 10, seed=0, symptoms=["Depressed_Mood", "Pessimism"])


def test_clean_proposed_drops_invalid(taxonomy):
    kept, dropped = clean_proposed(taxonomy, [
        ["depressed_mood", "Sleep_disturbance"],
        ["Depressed_Mood", "Unknown"],
        ["Suicidal_ideas", "Sleep_disturbance"],
        ["Sleep_disturbance", "Depressed_Mood"],
    ])
    assert kept == [["Depressed_Mood", "Sleep_disturbance"]]
    assert len(dropped) == 3
    assert any("unknown label" in line for line in dropped)
    assert any("constraints" in line for line in dropped)
    assert any("duplicate" in line for line in dropped)


def test_constraint_check(taxonomy):
    assert not satisfies_constraints(taxonomy.cooccurrence, ["Suicidal_ideas", "Sleep_disturbance", "Inattention"])
    assert satisfies_constraints(taxonomy.cooccurrence, ["Suicidal_ideas", "Depressed_Mood", "Inattention"])


def test_describe_prior_mentions_rules(taxonomy):
    text = describe_prior(taxonomy)
    assert "Suicidal_ideas appears only in combinations of 3 or more" in text
    assert "somatic" in text
