"""Loaders for each labelled-set format, on small fixture files written for these tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synsym.evaluation.data import (
    LabelledSet,
    detect_format,
    load_labelled_set,
    load_with_attributes,
)
from synsym.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
TAXONOMY = load_taxonomy("depression14")
PHQ9_LABELS = list(TAXONOMY.view("phq9"))


def write_run(folder: Path, rows: list[dict]) -> Path:
    """Write a minimal run folder in the generator's layout (data.parquet plus side files)."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(folder / "data.parquet")
    (folder / "data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    for name in ("rejects.jsonl", "config.json", "usage.json", "README.md"):
        (folder / name).write_text("", encoding="utf-8")
    return folder


def run_row(index: int, text: str, labels: list[str], style: str, kind: str) -> dict:
    return {
        "id": f"post-{index}",
        "text": text,
        "labels": labels,
        "style": style,
        "kind": kind,
        "target_symptom": labels[0] if kind == "single" else None,
        "sub_concept": None,
        "judge_scores": [{"symptom": label, "score": 5, "reason": "clear"} for label in labels],
        "min_judge_score": 5,
        "lm": "dummy",
        "program_fingerprint": "abc",
        "seed": 0,
        "unit_id": f"unit-{index}",
    }


def test_generic_csv_loader_reads_semicolon_labels():
    data = load_labelled_set(FIXTURES / "generic.csv")

    assert len(data) == 4
    assert data.label_names == TAXONOMY.labels
    assert data.labels[0] == ["Decreased_energy_tiredness_fatigue", "Sleep_disturbance"]
    assert data.labels[3] == ["Anger_Irritability"]
    assert data.texts[1].startswith("Nothing I used to enjoy")


def test_generic_jsonl_loader_reads_list_labels():
    data = load_labelled_set(FIXTURES / "generic.jsonl", format="generic")

    assert len(data) == 3
    assert data.labels[2] == ["Worthlessness_and_guilty", "Pessimism"]


def test_generic_loader_reads_custom_columns(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text('post,symptoms\nI cry most evenings.,"[""Depressed_Mood""]"\n', encoding="utf-8")

    data = load_labelled_set(path, text_column="post", labels_column="symptoms")

    assert data.texts == ["I cry most evenings."]
    assert data.labels == [["Depressed_Mood"]]


def test_generic_loader_accepts_post_without_labels(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("text,labels\nWe went hiking on Sunday.,\n", encoding="utf-8")

    data = load_labelled_set(path)

    assert data.labels == [[]]


def test_generic_loader_returns_style_attribute():
    _, attributes = load_with_attributes(FIXTURES / "generic.csv")

    assert attributes["style"] == ["colloquial", "colloquial", "clinical", "colloquial"]


def test_synsym_release_loader_decodes_one_hot():
    data, attributes = load_with_attributes(FIXTURES / "synsym_release.csv")

    assert data.label_names == TAXONOMY.labels
    assert data.labels == [
        ["Weight_and_appetite_change"],
        ["Hyperactivity_agitation"],
        ["Anger_Irritability", "Depressed_Mood"],
    ]
    assert attributes["style"] == ["colloquial", "clinical", "colloquial"]
    assert attributes["sub_concept"] == ["Losing weight", "Feeling restless", None]


def test_release_phq9_file_loads_in_view():
    data = load_labelled_set(FIXTURES / "synsym_release_phq9.csv")

    assert data.label_names == PHQ9_LABELS
    assert data.labels == [["PHQ5_Appetite"], [], ["PHQ6_Worthlessness", "PHQ7_Concentration"]]


def test_synsym_release_loader_uses_label_dictionary(tmp_path):
    dictionary = tmp_path / "symptom_dictionary.json"
    dictionary.write_text(json.dumps({"Depressed_Mood": 1, "Sleep_disturbance": 0}), encoding="utf-8")
    path = tmp_path / "all.csv"
    path.write_text('post,label\nI sleep all weekend.,"[1, 0]"\n', encoding="utf-8")

    data = load_labelled_set(path, format="synsym-release", label_dictionary=dictionary)

    assert data.labels == [["Sleep_disturbance"]]


def test_redsm5_loader_joins_posts_and_annotations():
    data = load_labelled_set(FIXTURES / "redsm5")

    assert data.label_names == PHQ9_LABELS
    assert len(data) == 3
    assert data.labels[0] == ["PHQ3_Sleep", "PHQ6_Worthlessness"]
    assert data.labels[1] == []
    assert data.labels[2] == ["PHQ1_Anhedonia", "PHQ4_Fatigue"]


def test_redsm5_loader_accepts_either_csv():
    from_posts = load_labelled_set(FIXTURES / "redsm5" / "redsm5_posts.csv")
    from_annotations = load_labelled_set(FIXTURES / "redsm5" / "redsm5_annotations.csv")

    assert from_posts.labels == from_annotations.labels


def test_primate_loader_reads_yes_answers():
    data = load_labelled_set(FIXTURES / "primate.json")

    assert data.label_names == PHQ9_LABELS
    assert data.labels[0] == ["PHQ1_Anhedonia", "PHQ3_Sleep", "PHQ4_Fatigue"]
    assert data.labels[1] == ["PHQ7_Concentration"]


def test_primate_loader_joins_title_and_text():
    data = load_labelled_set(FIXTURES / "primate.json")

    assert data.texts[0].startswith("Tired all the time\n\nI sleep twelve hours")
    assert data.texts[1] == "I can't read more than a paragraph before my mind wanders off."


def test_psysym_loader_keeps_depression_symptoms():
    data = load_labelled_set(FIXTURES / "psysym.csv")

    assert data.label_names == TAXONOMY.labels
    assert data.labels == [
        ["Depressed_Mood"],
        [],
        ["Pessimism", "Sleep_disturbance"],
        [],
    ]


def test_run_loader_reads_data_parquet(tmp_path):
    rows = [
        run_row(0, "I can't stop pacing around my flat.", ["Hyperactivity_agitation"], "colloquial", "single"),
        run_row(1, "I sleep poorly and feel hopeless.", ["Depressed_Mood", "Sleep_disturbance"], "clinical", "multi"),
    ]
    folder = write_run(tmp_path / "run-a", rows)

    data, attributes = load_with_attributes(folder)

    assert data.source.endswith("data.parquet")
    assert data.labels == [["Hyperactivity_agitation"], ["Depressed_Mood", "Sleep_disturbance"]]
    assert attributes["kind"] == ["single", "multi"]
    assert attributes["style"] == ["colloquial", "clinical"]
    assert attributes["target_symptom"] == ["Hyperactivity_agitation", None]


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("generic.csv", "generic"),
        ("generic.jsonl", "generic"),
        ("synsym_release.csv", "synsym-release"),
        ("redsm5", "redsm5"),
        ("redsm5/redsm5_posts.csv", "redsm5"),
        ("primate.json", "primate"),
        ("psysym.csv", "psysym"),
    ],
)
def test_detect_format_recognises_fixture(relative, expected):
    assert detect_format(FIXTURES / relative) == expected


def test_detect_format_recognises_run_folder(tmp_path):
    folder = write_run(tmp_path / "run", [run_row(0, "I feel numb.", ["Depressed_Mood"], "clinical", "single")])

    assert detect_format(folder) == "run"
    assert detect_format(folder / "data.parquet") == "run"


def test_redsm5_folder_copy_loads_from_new_location(tmp_path):
    shutil.copytree(FIXTURES / "redsm5", tmp_path / "copy")

    data = load_labelled_set(tmp_path / "copy", format="redsm5")

    assert len(data) == 3


def test_label_matrix_follows_label_names():
    data = LabelledSet(
        texts=["a", "b"],
        labels=[["Pessimism"], ["Depressed_Mood", "Pessimism"]],
        label_names=["Depressed_Mood", "Pessimism", "Poor_memory"],
        source="test",
    )

    matrix = data.label_matrix()

    assert matrix.dtype.kind == "i"
    assert matrix.tolist() == [[0, 1, 0], [1, 1, 0]]


def test_subset_takes_indices_and_mask():
    data = load_labelled_set(FIXTURES / "generic.csv")

    by_index = data.subset([3, 1])
    by_mask = data.subset(np.array([False, True, False, True]))

    assert by_index.texts == [data.texts[3], data.texts[1]]
    assert by_index.labels == [data.labels[3], data.labels[1]]
    assert by_mask.texts == [data.texts[1], data.texts[3]]
    assert by_index.label_names == data.label_names


def test_labelled_set_rejects_label_outside_label_names():
    with pytest.raises(ValueError, match="'Pessimism'"):
        LabelledSet(texts=["a"], labels=[["Pessimism"]], label_names=["Depressed_Mood"], source="test")
