"""Small labelled posts written for these tests (not taken from any data set)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synsym.evaluation.data import LabelledSet

SLEEP = "Sleep_disturbance"
FATIGUE = "Decreased_energy_tiredness_fatigue"
PESSIMISM = "Pessimism"
APPETITE = "Weight_and_appetite_change"
LABELS = [SLEEP, FATIGUE, PESSIMISM, APPETITE]

# Phrasings per symptom; training and test posts use different ones, so a classifier must generalise.
TRAIN_PHRASES = {
    SLEEP: [
        "i lie awake every night and cannot fall asleep",
        "sleep never comes, i stare at the ceiling until 4am",
        "i wake up at 3am and cannot get back to sleep",
        "insomnia again, awake the whole night",
        "i keep waking up during the night",
        "my sleep is broken, awake for hours in bed",
    ],
    FATIGUE: [
        "i am exhausted all the time, no energy at all",
        "so tired that getting out of bed feels impossible",
        "my body feels heavy and drained every day",
        "even a short walk leaves me completely worn out",
        "i have zero energy and feel tired constantly",
        "drained and fatigued from morning to night",
    ],
    PESSIMISM: [
        "nothing will ever get better for me",
        "the future looks hopeless and dark",
        "i am sure things will only get worse",
        "there is no point hoping, it always ends badly",
        "i expect the worst from every tomorrow",
        "my future is hopeless, nothing good is coming",
    ],
    APPETITE: [
        "i barely eat anymore and lost a lot of weight",
        "food has no appeal, i skip meals every day",
        "i keep eating all night and gained weight",
        "my appetite is gone, i forget to eat",
        "i stopped eating properly and my clothes are loose",
        "i eat far more than usual and put on weight",
    ],
}

TEST_PHRASES = {
    SLEEP: ["awake all night again, sleep will not come", "i cannot sleep and wake up at 3am"],
    FATIGUE: ["no energy today, exhausted and tired", "i feel drained and worn out all the time"],
    PESSIMISM: ["things will never get better, the future is hopeless", "i expect the worst, nothing good ahead"],
    APPETITE: ["i have no appetite and skip every meal", "i lost weight because i barely eat"],
}


def single_label_posts(phrases: dict[str, list[str]], repeat: int = 1) -> tuple[list[str], list[list[str]]]:
    """Return posts and their label lists, each phrase once per repeat (numbered to keep texts distinct)."""
    texts, labels = [], []
    for round_number in range(repeat):
        for label, label_phrases in phrases.items():
            for phrase in label_phrases:
                texts.append(phrase if round_number == 0 else f"{phrase} ({round_number})")
                labels.append([label])
    return texts, labels


def labelled_set(phrases: dict[str, list[str]], source: str, repeat: int = 1) -> LabelledSet:
    texts, labels = single_label_posts(phrases, repeat)
    return LabelledSet(texts=texts, labels=labels, label_names=list(LABELS), source=source)


def as_matrix(labels: list[list[str]], names: list[str] = LABELS) -> list[list[int]]:
    return [[int(name in post_labels) for name in names] for post_labels in labels]


def write_run_folder(folder: Path, phrases: dict[str, list[str]], repeat: int = 1) -> Path:
    """Write a generated-run folder (data.parquet with the run columns) and return it."""
    texts, labels = single_label_posts(phrases, repeat)
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "text": texts,
            "labels": labels,
            "style": ["colloquial"] * len(texts),
            "kind": ["single"] * len(texts),
            "target_symptom": [post_labels[0] for post_labels in labels],
            "sub_concept": [""] * len(texts),
            "judge_scores": [json.dumps({"fidelity": 5})] * len(texts),
            "lm": ["test-written"] * len(texts),
            "program_fingerprint": ["0" * 8] * len(texts),
        }
    )
    pq.write_table(table, folder / "data.parquet")
    return folder


def write_labelled_csv(path: Path, phrases: dict[str, list[str]], repeat: int = 1) -> Path:
    """Write a generic CSV (text, labels joined by ';') and return its path."""
    import csv

    texts, labels = single_label_posts(phrases, repeat)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "labels"])
        for text, post_labels in zip(texts, labels):
            writer.writerow([text, ";".join(post_labels)])
    return path
