import json

import pytest

from synsym.taxonomy import TaxonomyError, load_taxonomy

EXPECTED_LABELS = [
    "Anger_Irritability", "Decreased_energy_tiredness_fatigue", "Depressed_Mood", "Genitourinary_symptoms",
    "Hyperactivity_agitation", "Inattention", "Indecisiveness", "Suicidal_ideas", "Worthlessness_and_guilty",
    "Loss_of_interest_or_motivation", "Pessimism", "Poor_memory", "Sleep_disturbance", "Weight_and_appetite_change",
]


def minimal(**overrides):
    data = {
        "name": "mini",
        "symptoms": [{"name": "A", "definition": "a"}, {"name": "B", "definition": "b"}],
    }
    data.update(overrides)
    return data


def test_default_taxonomy_has_psysym_labels(taxonomy):
    assert taxonomy.labels == EXPECTED_LABELS
    assert all(symptom.definition for symptom in taxonomy.symptoms)


def test_phq9_view_maps_nine_items(taxonomy):
    view = taxonomy.view("phq9")
    assert len(view) == 9
    mapped = {label for members in view.values() for label in members}
    assert "Anger_Irritability" not in mapped
    assert taxonomy.map_labels(["Anger_Irritability"], "phq9") == []
    assert taxonomy.map_labels(["Genitourinary_symptoms"], "phq9") == ["PHQ1_Anhedonia"]


def test_default_styles_are_clinical_and_colloquial(taxonomy):
    assert set(taxonomy.styles) == {"clinical", "colloquial"}


def test_loads_json_taxonomy_file(tmp_path):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(minimal()))
    assert load_taxonomy(path).labels == ["A", "B"]


def test_loads_yaml_taxonomy_file(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text("name: mini\nsymptoms:\n  - {name: A, definition: a}\n  - {name: B, definition: b}\n")
    assert load_taxonomy(path).labels == ["A", "B"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (minimal(symptoms=[{"name": "A", "definition": "a"}, {"name": "A", "definition": "b"}]), "'A' appears more than once"),
        (minimal(symptoms=[{"name": "A"}, {"name": "B", "definition": "b"}]), "symptoms.0.definition"),
        (minimal(cooccurrence={"clusters": [{"name": "c", "symptoms": ["A", "Z"], "affinity": 2}]}), "cooccurrence.clusters[0].symptoms: 'Z'"),
        (minimal(cooccurrence={"combination_sizes": {1: 1.0}}), "combination size 1"),
        (minimal(views={"short": {"item": ["Q"]}}), "views.short.item: 'Q'"),
        (minimal(colour="blue"), "colour"),
    ],
)
def test_malformed_taxonomy_names_field(tmp_path, data, expected):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TaxonomyError) as raised:
        load_taxonomy(path)
    assert expected in str(raised.value)


def test_missing_taxonomy_file_is_reported(tmp_path):
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "absent.yaml")


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(path)


def test_unknown_suffix_is_rejected(tmp_path):
    path = tmp_path / "mini.txt"
    path.write_text("{}")
    with pytest.raises(TaxonomyError, match="use .yaml, .yml or .json"):
        load_taxonomy(path)
