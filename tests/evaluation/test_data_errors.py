"""Loader errors name the row and the value, and give the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synsym.evaluation.data import DataFormatError, load_labelled_set

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_loader_rejects_unknown_label(tmp_path):
    path = write(tmp_path / "gold.csv", "text,labels\nI feel low.,Depressed_Mood\nI never sleep.,Sleep_problems\n")

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "row 2" in message
    assert "'Sleep_problems'" in message
    assert "Sleep_disturbance" in message  # the known labels are listed


def test_generic_loader_suggests_close_label(tmp_path):
    path = write(tmp_path / "gold.csv", "text,labels\nI feel low.,Depressed_mood\n")

    with pytest.raises(DataFormatError, match="did you mean 'Depressed_Mood'"):
        load_labelled_set(path)


def test_generic_loader_rejects_empty_text(tmp_path):
    path = write(tmp_path / "gold.csv", 'text,labels\nI feel low.,Depressed_Mood\n"   ",Pessimism\n')

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "row 2" in message
    assert "empty" in message


def test_generic_loader_rejects_duplicate_text(tmp_path):
    path = write(
        tmp_path / "gold.csv",
        "text,labels\nI feel low.,Depressed_Mood\nI never sleep.,Sleep_disturbance\n I feel low. ,Depressed_Mood\n",
    )

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "row 1 and row 3" in message
    assert "'I feel low.'" in message
    assert "duplicates='drop'" in message


def test_generic_loader_drops_duplicate_when_asked(tmp_path):
    path = write(tmp_path / "gold.csv", "text,labels\nI feel low.,Depressed_Mood\nI feel low.,Pessimism\n")

    data = load_labelled_set(path, duplicates="drop")

    assert data.labels == [["Depressed_Mood"]]


def test_generic_loader_keeps_duplicate_when_asked(tmp_path):
    path = write(tmp_path / "gold.csv", "text,labels\nI feel low.,Depressed_Mood\nI feel low.,Pessimism\n")

    data = load_labelled_set(path, duplicates="keep")

    assert len(data) == 2


def test_generic_loader_rejects_missing_column(tmp_path):
    path = write(tmp_path / "gold.csv", "post,labels\nI feel low.,Depressed_Mood\n")

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path, format="generic")

    message = str(caught.value)
    assert "'text'" in message
    assert "Columns found: post, labels" in message


def test_generic_loader_rejects_invalid_json_labels(tmp_path):
    path = write(tmp_path / "gold.jsonl", '{"text": "I feel low.", "labels": "[\\"Depressed_Mood\\""}\n')

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "row 1" in message
    assert '["Depressed_Mood"' in message


def test_detect_format_lists_formats_tried(tmp_path):
    path = write(tmp_path / "mystery.csv", "body,tags\nI feel low.,x\n")

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    for name in ("run", "redsm5", "primate", "synsym-release", "psysym", "generic"):
        assert name in message
    assert "Columns found: body, tags" in message


def test_loader_rejects_missing_path(tmp_path):
    with pytest.raises(DataFormatError, match="not found"):
        load_labelled_set(tmp_path / "absent.csv")


def test_synsym_release_loader_rejects_bad_vector_length(tmp_path):
    path = write(tmp_path / "release.csv", 'post,label\nI feel low.,"[0, 1, 0]"\n')

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "row 1" in message
    assert "3 entries" in message
    assert "label_dictionary=" in message


def test_synsym_release_loader_rejects_non_binary_vector(tmp_path):
    path = write(tmp_path / "release.csv", 'post,label\nI feel low.,"[0, 2]"\n')

    with pytest.raises(DataFormatError, match=r"row 1: label '\[0, 2\]'"):
        load_labelled_set(path)


def test_redsm5_loader_rejects_unknown_symptom(tmp_path):
    write(tmp_path / "redsm5_posts.csv", "post_id,text\np_1,I feel low.\n")
    write(
        tmp_path / "redsm5_annotations.csv",
        "post_id,sentence_id,sentence_text,DSM5_symptom,status,explanation\np_1,p_1_0,I feel low.,SADNESS,1,x\n",
    )

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(tmp_path)

    message = str(caught.value)
    assert "row 1" in message
    assert "'SADNESS'" in message
    assert "DEPRESSED_MOOD" in message


def test_redsm5_loader_rejects_unknown_post_id(tmp_path):
    write(tmp_path / "redsm5_posts.csv", "post_id,text\np_1,I feel low.\n")
    write(
        tmp_path / "redsm5_annotations.csv",
        "post_id,sentence_id,sentence_text,DSM5_symptom,status,explanation\np_9,p_9_0,x,FATIGUE,1,x\n",
    )

    with pytest.raises(DataFormatError, match="row 1: post_id 'p_9' is not in redsm5_posts.csv"):
        load_labelled_set(tmp_path)


def test_redsm5_loader_rejects_missing_annotations_file(tmp_path):
    write(tmp_path / "redsm5_posts.csv", "post_id,text\np_1,I feel low.\n")

    with pytest.raises(DataFormatError, match="redsm5_annotations.csv"):
        load_labelled_set(tmp_path / "redsm5_posts.csv")


def test_redsm5_loader_names_post_of_empty_text(tmp_path):
    write(tmp_path / "redsm5_posts.csv", 'post_id,text\np_1,I feel low.\np_2,""\n')
    write(tmp_path / "redsm5_annotations.csv", "post_id,sentence_id,sentence_text,DSM5_symptom,status,explanation\n")

    with pytest.raises(DataFormatError, match="row 2 \\(post_id 'p_2'\\): the text is empty"):
        load_labelled_set(tmp_path)


def test_primate_loader_rejects_unknown_question(tmp_path):
    post = {"post_title": "t", "post_text": "I feel low.", "annotations": [["Feeling-blue", "yes"]]}
    path = write(tmp_path / "primate.json", json.dumps([post]))

    with pytest.raises(DataFormatError) as caught:
        load_labelled_set(path)

    message = str(caught.value)
    assert "post 1" in message
    assert "'Feeling-blue'" in message
    assert "Feeling-down-depressed-or-hopeless" in message


def test_primate_loader_rejects_invalid_answer(tmp_path):
    post = {"post_title": "t", "post_text": "x", "annotations": [["Feeling-down-depressed-or-hopeless", "maybe"]]}
    path = write(tmp_path / "primate.json", json.dumps([post]))

    with pytest.raises(DataFormatError, match="post 1: answer 'maybe'"):
        load_labelled_set(path)


def test_primate_loader_rejects_missing_column(tmp_path):
    path = write(tmp_path / "primate.json", json.dumps([{"post_title": "t", "post_text": "I feel low."}]))

    with pytest.raises(DataFormatError, match="'annotations'.*Columns found: post_title, post_text"):
        load_labelled_set(path, format="primate")


def test_psysym_loader_rejects_invalid_cell(tmp_path):
    path = write(tmp_path / "psysym.csv", "sentence,disease,Depressed_Mood\nI feel low.,depression,yes\n")

    with pytest.raises(DataFormatError, match="row 1: column 'Depressed_Mood' has value 'yes'"):
        load_labelled_set(path)


def test_psysym_loader_rejects_file_without_symptom_columns(tmp_path):
    path = write(tmp_path / "psysym.csv", "sentence,disease\nI feel low.,depression\n")

    with pytest.raises(DataFormatError, match="no PsySym symptom column found. Columns found: sentence, disease"):
        load_labelled_set(path, format="psysym")


def test_run_loader_rejects_folder_without_data(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")

    with pytest.raises(DataFormatError, match="no data.parquet"):
        load_labelled_set(tmp_path, format="run")


def test_loader_rejects_unknown_format():
    with pytest.raises(DataFormatError, match="unknown format 'xml'"):
        load_labelled_set(FIXTURES / "generic.csv", format="xml")
