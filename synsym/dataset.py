"""The generated data set: rows, rejects, usage, and the files of a run folder.

A run folder holds:

- `data.parquet` and `data.jsonl`: kept posts, one row each (see `ROW_FIELDS`);
- `rejects.jsonl`: posts kept out of the data set, with their scores and the reason;
- `config.json`: the resolved settings (rerunning from it reproduces the run);
- `usage.json`: LM calls, tokens and seconds per stage, duplicates removed, failures;
- `units.jsonl`: the append-only log of finished units that makes a run resumable;
- `README.md`: the data-set card.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

ROW_FIELDS = (
    "id", "text", "labels", "style", "kind", "target_symptom", "sub_concept",
    "judge_scores", "min_judge_score", "lm", "program_fingerprint", "seed", "unit_id",
)

PARQUET_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),
    ("labels", pa.list_(pa.string())),
    ("style", pa.string()),
    ("kind", pa.string()),
    ("target_symptom", pa.string()),
    ("sub_concept", pa.string()),
    ("judge_scores", pa.list_(pa.struct([("symptom", pa.string()), ("score", pa.int64()), ("reason", pa.string())]))),
    ("min_judge_score", pa.int64()),
    ("lm", pa.string()),
    ("program_fingerprint", pa.string()),
    ("seed", pa.int64()),
    ("unit_id", pa.string()),
])


@dataclass
class GeneratedData:
    """The result of a generation run.

    Attributes:
        rows: Kept posts as dicts with the keys of `ROW_FIELDS`.
        rejects: Posts kept out, with `reject_reason` added.
        usage: Calls, tokens and seconds per stage, plus run-level counts.
        labels: The taxonomy's label names, in order.
    """

    rows: list[dict]
    rejects: list[dict] = field(default_factory=list)
    usage: dict = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [row["text"] for row in self.rows]

    def fingerprint(self) -> str:
        """Return a digest of the kept texts and labels (identifies the data, not how it was made)."""
        import hashlib

        digest = hashlib.sha256()
        for row in sorted(self.rows, key=lambda item: item["id"]):
            digest.update(row["text"].encode())
            digest.update(";".join(row["labels"]).encode())
        return digest.hexdigest()[:16]


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Write records as JSON Lines, replacing the file atomically."""
    _write_atomic(path, "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))


def write_parquet(path: Path, rows: list[dict]) -> None:
    """Write kept rows as Parquet with a fixed schema (also for an empty data set)."""
    columns = {name: [row.get(name) for row in rows] for name in PARQUET_SCHEMA.names}
    table = pa.table(columns, schema=PARQUET_SCHEMA)
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def count_table(rows: list[dict], labels: list[str], styles: list[str]) -> list[list]:
    """Return, per label, [label, single-symptom posts per style..., multi-symptom posts, all posts]."""
    table = []
    for label in labels:
        singles = Counter(row["style"] for row in rows if row["kind"] == "single" and row["target_symptom"] == label)
        multi = sum(1 for row in rows if row["kind"] == "multi" and label in row["labels"])
        total = sum(1 for row in rows if label in row["labels"])
        table.append([label, *[singles.get(style, 0) for style in styles], multi, total])
    return table


def render_card(data: GeneratedData, config: dict, version: str) -> str:
    """Render the data-set card (README.md of a run folder)."""
    styles = list(config.get("styles", []))
    usage = data.usage
    rows = data.rows
    kinds = Counter(row["kind"] for row in rows)
    header = "| symptom | " + " | ".join(f"single, {style}" for style in styles) + " | multi | all posts with label |"
    divider = "|" + "---|" * (len(styles) + 3)
    lines_table = [header, divider]
    for entry in count_table(rows, data.labels, styles):
        lines_table.append("| " + " | ".join(str(value) for value in entry) + " |")
    reject_reasons = Counter(reject.get("reject_reason", "").split(":")[0] for reject in data.rejects)
    judge_line = (
        f"An LLM judge scored every labelled symptom of each post from 0 to 5; posts with any score below "
        f"{config.get('threshold')} were kept out ({len(data.rejects)} rejects, see `rejects.jsonl`)."
        if config.get("judge") else "The judge was switched off for this run: no post was scored or filtered."
    )
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Synthetic symptom-labelled posts ({config.get('taxonomy')})

> **Content warning.** These posts are machine-written first-person descriptions of
> depressive symptoms, including suicidal ideation and self-harm. They are synthetic
> training data for research on symptom classifiers. They are not written by real people,
> are not clinical material, and nothing here is medical advice. If you or someone you
> know is in crisis, contact local emergency services or a crisis line.

## Summary

- Posts kept: {len(rows)} ({kinds.get('single', 0)} single-symptom, {kinds.get('multi', 0)} multi-symptom)
- Posts rejected: {len(data.rejects)} ({', '.join(f'{reason}: {count}' for reason, count in reject_reasons.items()) or 'none'})
- Exact duplicates removed: {usage.get('duplicates_removed', 0)}
- Failed units (recorded in `usage.json`; rerun to retry): {usage.get('failed_units', 0)}
- Generated with: `{usage.get('lm', config.get('lm'))}`, program `{usage.get('program_fingerprint', '')}`, synsym {version}, seed {config.get('seed')}
- Written: {created}

## Posts per symptom and style

{chr(10).join(lines_table)}

## How it was made

The SynSym method (Kang et al., "SynSym: A Synthetic Data Generation Framework for
Psychiatric Symptom Identification", KDD 2026, arXiv 2603.21529), run as a DSPy program:
each symptom was expanded into sub-concepts ({'on' if config.get('expansion') else 'off'}),
single-symptom posts were written per sub-concept in the styles {', '.join(styles)},
{'multi-symptom posts were composed from ' + str(config.get('combinations')) + ' combinations (source: ' + str(config.get('combination_source')) + ')' if config.get('composition') else 'multi-symptom composition was off'},
and {judge_line.lower()[0] + judge_line[1:]}

`config.json` holds the exact settings; `synsym generate --config config.json` reruns them.

## Columns

`text`, `labels` (list of label names), `style`, `kind` (`single` or `multi`),
`target_symptom` and `sub_concept` (the generation target; empty for multi-symptom posts),
`judge_scores` (symptom, score 0-5, reason), `min_judge_score`, `lm`,
`program_fingerprint`, `seed`, `unit_id`.

Load with `datasets.load_dataset("parquet", data_files="data.parquet")`.

## Intended use and limits

Training and evaluating classifiers that identify symptoms in social-media text, and
research on synthetic data generation. The posts reflect what the LM produced under the
prompts above; they can carry the model's stereotypes, miss how real people write, and
carry wrong labels that the judge did not catch. Do not use them to diagnose or to make
decisions about individuals.
"""


def write_outputs(folder: Path, data: GeneratedData, config: dict, version: str) -> None:
    """Write the data, rejects, usage and card of a finished run."""
    write_parquet(folder / "data.parquet", data.rows)
    write_jsonl(folder / "data.jsonl", data.rows)
    write_jsonl(folder / "rejects.jsonl", data.rejects)
    _write_atomic(folder / "usage.json", json.dumps(data.usage, indent=2) + "\n")
    _write_atomic(folder / "README.md", render_card(data, config, version))
