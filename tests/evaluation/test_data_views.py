"""Mapping between the 14 symptom classes and the PHQ-9 view, and the benchmark label tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from synsym.evaluation.data import (
    PRIMATE_TO_PHQ9,
    PSYSYM_SYMPTOMS,
    PSYSYM_TO_DEPRESSION14,
    REDSM5_TO_PHQ9,
    SYNSYM_RELEASE_LABELS,
    SYNSYM_RELEASE_PHQ9_TO_VIEW,
    DataFormatError,
    LabelledSet,
    load_labelled_set,
    map_to_view,
)
from synsym.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
TAXONOMY = load_taxonomy("depression14")
PHQ9 = TAXONOMY.view("phq9")


def single_label_set(labels: list[str]) -> LabelledSet:
    return LabelledSet(
        texts=[f"post {i}" for i in range(len(labels))],
        labels=[[label] for label in labels],
        label_names=TAXONOMY.labels,
        source="test",
    )


def test_phq9_view_drops_anger_irritability():
    mapped = map_to_view(single_label_set(["Anger_Irritability"]), TAXONOMY, "phq9")

    assert mapped.labels == [[]]
    assert mapped.label_names == list(PHQ9)


def test_phq9_view_maps_genitourinary_to_interest_item():
    mapped = map_to_view(single_label_set(["Genitourinary_symptoms"]), TAXONOMY, "phq9")

    assert mapped.labels == [["PHQ1_Anhedonia"]]


@pytest.mark.parametrize(
    ("label", "item"),
    [
        ("Loss_of_interest_or_motivation", "PHQ1_Anhedonia"),
        ("Depressed_Mood", "PHQ2_Depressed_mood"),
        ("Pessimism", "PHQ2_Depressed_mood"),
        ("Sleep_disturbance", "PHQ3_Sleep"),
        ("Decreased_energy_tiredness_fatigue", "PHQ4_Fatigue"),
        ("Weight_and_appetite_change", "PHQ5_Appetite"),
        ("Worthlessness_and_guilty", "PHQ6_Worthlessness"),
        ("Inattention", "PHQ7_Concentration"),
        ("Poor_memory", "PHQ7_Concentration"),
        ("Indecisiveness", "PHQ7_Concentration"),
        ("Hyperactivity_agitation", "PHQ8_Psychomotor"),
        ("Suicidal_ideas", "PHQ9_Suicidal_ideas"),
    ],
)
def test_phq9_view_matches_synsym_release_mapping(label, item):
    # Each pair is how the same post is labelled in the SynSym release files synth_all_dsm5.csv
    # and synth_all_phq9.csv (gyeong707/SynSym-KDD-2026, symptom-identification/data/Synth/).
    mapped = map_to_view(single_label_set([label]), TAXONOMY, "phq9")

    assert mapped.labels == [[item]]


def test_phq9_view_merges_classes_of_one_item():
    data = LabelledSet(["post"], [["Inattention", "Poor_memory", "Depressed_Mood"]], TAXONOMY.labels, "test")

    mapped = map_to_view(data, TAXONOMY, "phq9")

    assert mapped.labels == [["PHQ2_Depressed_mood", "PHQ7_Concentration"]]


def test_map_to_view_returns_set_already_in_view():
    data = load_labelled_set(FIXTURES / "primate.json")

    assert map_to_view(data, TAXONOMY, "phq9") is data


def test_map_to_view_rejects_unknown_view():
    with pytest.raises(DataFormatError, match="no label view 'hamd'"):
        map_to_view(single_label_set(["Pessimism"]), TAXONOMY, "hamd")


def test_load_with_view_maps_generic_set():
    data = load_labelled_set(FIXTURES / "generic.csv", view="phq9")

    assert data.label_names == list(PHQ9)
    assert data.labels == [["PHQ3_Sleep", "PHQ4_Fatigue"], ["PHQ1_Anhedonia"], ["PHQ2_Depressed_mood"], []]


def test_load_view_accepts_item_labels(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("text,labels\nI sleep all day.,PHQ3_Sleep\n", encoding="utf-8")

    data = load_labelled_set(path, view="phq9")

    assert data.labels == [["PHQ3_Sleep"]]


def test_load_rejects_view_other_than_phq9_for_primate():
    with pytest.raises(DataFormatError, match="labelled in view 'phq9'"):
        load_labelled_set(FIXTURES / "primate.json", view="other")


def test_synsym_release_and_phq9_fixtures_agree_after_mapping():
    classes = load_labelled_set(FIXTURES / "synsym_release.csv", view="phq9")
    items = load_labelled_set(FIXTURES / "synsym_release_phq9.csv")

    assert classes.labels[0] == items.labels[0]  # the same appetite post in both files


def test_release_label_order_matches_taxonomy():
    assert list(SYNSYM_RELEASE_LABELS) == TAXONOMY.labels


def test_benchmark_tables_target_phq9_items():
    targets = set(SYNSYM_RELEASE_PHQ9_TO_VIEW.values()) | set(PRIMATE_TO_PHQ9.values())
    targets |= {item for item in REDSM5_TO_PHQ9.values() if item is not None}

    assert targets == set(PHQ9)


def test_psysym_table_covers_depression14():
    assert len(PSYSYM_SYMPTOMS) == 38
    assert set(PSYSYM_TO_DEPRESSION14) <= set(PSYSYM_SYMPTOMS)
    assert sorted(PSYSYM_TO_DEPRESSION14.values()) == sorted(TAXONOMY.labels)
