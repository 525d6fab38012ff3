"""Labelled post sets: loaders for the formats researchers hold, and mapping to label views.

A `LabelledSet` is a list of posts, the label names of each post and the label space. The
loaders read six formats (see `docs/formats.md` for the columns, the label mappings and
what was verified against which public source):

- `generic`: CSV, JSON or JSONL with a text column and a labels column.
- `synsym-release`: the SynSym authors' CSV (`post`, `label` as a one-hot vector).
- `redsm5`: ReDSM5's posts CSV joined with its sentence-level annotations CSV.
- `primate`: PRIMATE's JSON, with a yes/no answer per PHQ-9 question.
- `psysym`: PsySym's sentence CSV, with one 0/1 column per symptom.
- `run`: a synsym run folder (`data.parquet`).

Each benchmark's label names map onto the taxonomy's classes or onto its `phq9` view by
the tables below, which are data and keep the names the benchmark's authors use.

Example:
    >>> gold = load_labelled_set("gold.csv")                     # doctest: +SKIP
    >>> gold_phq9 = map_to_view(gold, load_taxonomy(), "phq9")    # doctest: +SKIP
    >>> gold.label_matrix().shape                                 # doctest: +SKIP
    (120, 14)
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from synsym.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

Format = Literal["auto", "generic", "synsym-release", "redsm5", "primate", "psysym", "run"]
DuplicatePolicy = Literal["error", "drop", "keep"]

FORMATS: tuple[str, ...] = ("generic", "synsym-release", "redsm5", "primate", "psysym", "run")
PHQ9_VIEW = "phq9"

# The SynSym release's 14-dim one-hot order, from the authors' label dictionary
# (gyeong707/SynSym-KDD-2026, synthetic-data-generation/s3_calcuate_occurrence/input/symptom_dictionary.json).
SYNSYM_RELEASE_LABELS: tuple[str, ...] = (
    "Anger_Irritability",
    "Decreased_energy_tiredness_fatigue",
    "Depressed_Mood",
    "Genitourinary_symptoms",
    "Hyperactivity_agitation",
    "Inattention",
    "Indecisiveness",
    "Suicidal_ideas",
    "Worthlessness_and_guilty",
    "Loss_of_interest_or_motivation",
    "Pessimism",
    "Poor_memory",
    "Sleep_disturbance",
    "Weight_and_appetite_change",
)

# The SynSym release's 9-dim PHQ-9 label names in one-hot order (resources/symptom_dictionary_phq9.json
# in the same repository), mapped to the `phq9` view of depression14.
SYNSYM_RELEASE_PHQ9_TO_VIEW: dict[str, str] = {
    "Low_Self-Esteem": "PHQ6_Worthlessness",
    "Feeling_Down": "PHQ2_Depressed_mood",
    "Lack_of_Energy": "PHQ4_Fatigue",
    "Lack_of_Interest": "PHQ1_Anhedonia",
    "Hyper_Lower_Activity": "PHQ8_Psychomotor",
    "Appetite_Change": "PHQ5_Appetite",
    "Suicidal_Ideation": "PHQ9_Suicidal_ideas",
    "Concentration_Problems": "PHQ7_Concentration",
    "Sleep_Disturbance": "PHQ3_Sleep",
}

# ReDSM5's `DSM5_symptom` values mapped to the `phq9` view. The nine DSM-5 criteria of a
# major depressive episode are the nine PHQ-9 items. SPECIAL_CASE marks clinically relevant
# sentences outside the nine criteria and has no item, so it maps to None and is dropped.
REDSM5_TO_PHQ9: dict[str, str | None] = {
    "ANHEDONIA": "PHQ1_Anhedonia",
    "DEPRESSED_MOOD": "PHQ2_Depressed_mood",
    "SLEEP_ISSUES": "PHQ3_Sleep",
    "FATIGUE": "PHQ4_Fatigue",
    "APPETITE_CHANGE": "PHQ5_Appetite",
    "WORTHLESSNESS": "PHQ6_Worthlessness",
    "COGNITIVE_ISSUES": "PHQ7_Concentration",
    "PSYCHOMOTOR": "PHQ8_Psychomotor",
    "SUICIDAL_THOUGHTS": "PHQ9_Suicidal_ideas",
    "SPECIAL_CASE": None,
}

# PRIMATE's question-like labels mapped to the `phq9` view. The released JSON writes the
# first item as "Little-interest-or-pleasure-in-doing " (cut short, trailing space), while
# its README lists the full question, so both spellings are accepted.
PRIMATE_TO_PHQ9: dict[str, str] = {
    "Little-interest-or-pleasure-in-doing-things": "PHQ1_Anhedonia",
    "Little-interest-or-pleasure-in-doing": "PHQ1_Anhedonia",
    "Feeling-down-depressed-or-hopeless": "PHQ2_Depressed_mood",
    "Trouble-falling-or-staying-asleep-or-sleeping-too-much": "PHQ3_Sleep",
    "Feeling-tired-or-having-little-energy": "PHQ4_Fatigue",
    "Poor-appetite-or-overeating": "PHQ5_Appetite",
    "Feeling-bad-about-yourself-or-that-you-are-a-failure-or-have-let-yourself-or-your-family-down": (
        "PHQ6_Worthlessness"
    ),
    "Trouble-concentrating-on-things-such-as-reading-the-newspaper-or-watching-television": "PHQ7_Concentration",
    (
        "Moving-or-speaking-so-slowly-that-other-people-could-have-noticed-Or-the-opposite-being-so-fidgety-"
        "or-restless-that-you-have-been-moving-around-a-lot-more-than-usual"
    ): "PHQ8_Psychomotor",
    "Thoughts-that-you-would-be-better-off-dead-or-of-hurting-yourself-in-some-way": "PHQ9_Suicidal_ideas",
}

# PsySym's 38 symptom names, spelled as in blmoistawinde/EMNLP22-PsySym data/parsed_kg_info.json.
PSYSYM_SYMPTOMS: tuple[str, ...] = (
    "Anger_Irritability", "Anxious_Mood", "Autonomic_symptoms", "Cardiovascular_symptoms",
    "Catatonic_behavior", "Decreased_energy_tiredness_fatigue", "Depressed_Mood",
    "Gastrointestinal_symptoms", "Genitourinary_symptoms", "Hyperactivity_agitation", "Impulsivity",
    "Inattention", "Indecisiveness", "Respiratory_symptoms", "Suicidal_ideas", "Worthlessness_and_guilty",
    "avoidance_of_stimuli", "compensatory_behaviors_to_prevent_weight_gain", "compulsions",
    "diminished_emotional_expression", "do_things_easily_get_painful_consequences",
    "drastical_shift_in_mood_and_energy", "fear_about_social_situations", "fear_of_gaining_weight",
    "fears_of_being_negatively_evaluated", "flight_of_ideas", "intrusion_symptoms",
    "loss_of_interest_or_motivation", "more_talktive", "obsession", "panic_fear", "pessimism",
    "poor_memory", "sleep_disturbance", "somatic_muscle", "somatic_symptoms_others",
    "somatic_symptoms_sensory", "weight_and_appetite_change",
)  # fmt: skip

# The 14 PsySym symptoms that the knowledge graph links to depression, mapped to depression14.
# The other 24 PsySym symptoms belong to other disorders and have no class here.
PSYSYM_TO_DEPRESSION14: dict[str, str] = {
    "Anger_Irritability": "Anger_Irritability",
    "Decreased_energy_tiredness_fatigue": "Decreased_energy_tiredness_fatigue",
    "Depressed_Mood": "Depressed_Mood",
    "Genitourinary_symptoms": "Genitourinary_symptoms",
    "Hyperactivity_agitation": "Hyperactivity_agitation",
    "Inattention": "Inattention",
    "Indecisiveness": "Indecisiveness",
    "Suicidal_ideas": "Suicidal_ideas",
    "Worthlessness_and_guilty": "Worthlessness_and_guilty",
    "loss_of_interest_or_motivation": "Loss_of_interest_or_motivation",
    "pessimism": "Pessimism",
    "poor_memory": "Poor_memory",
    "sleep_disturbance": "Sleep_disturbance",
    "weight_and_appetite_change": "Weight_and_appetite_change",
}

REDSM5_POSTS_FILES = ("redsm5_posts.csv", "redsm5_full_posts.csv")
REDSM5_ANNOTATIONS_FILES = ("redsm5_annotations.csv", "redsm5_annotations_long.csv")
REDSM5_POSTS_COLUMNS = ("post_id", "text")
REDSM5_ANNOTATIONS_COLUMNS = ("post_id", "sentence_id", "DSM5_symptom", "status")

# Columns kept as per-post attributes (style, kind and generation targets) when a format has them.
ATTRIBUTE_COLUMNS = ("style", "kind", "target_symptom", "symptom", "sub_concept", "min_judge_score")


class DataFormatError(ValueError):
    """A labelled-set file that cannot be read: wrong format, missing column or invalid row."""


@dataclass(frozen=True)
class LabelledSet:
    """Posts with their label names, in a fixed label space.

    Example:
        >>> data = LabelledSet(["I can't sleep."], [["Sleep_disturbance"]], ["Sleep_disturbance", "Pessimism"], "demo")
        >>> data.label_matrix().tolist()
        [[1, 0]]
    """

    texts: list[str]
    labels: list[list[str]]
    label_names: list[str]
    source: str = field(default="<memory>")

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{self.source}: {len(self.texts)} texts but {len(self.labels)} label lists")
        if len(set(self.label_names)) != len(self.label_names):
            raise ValueError(f"{self.source}: label_names contains a name twice: {self.label_names}")
        known = set(self.label_names)
        for index, post_labels in enumerate(self.labels):
            for label in post_labels:
                if label not in known:
                    raise ValueError(
                        f"{self.source}: post {index} has label {label!r}, which is not in label_names "
                        f"({', '.join(self.label_names)})"
                    )

    def __len__(self) -> int:
        return len(self.texts)

    def label_matrix(self) -> np.ndarray:
        """Return the (n_posts, n_labels) 0/1 int matrix, columns in `label_names` order."""
        column = {name: index for index, name in enumerate(self.label_names)}
        matrix = np.zeros((len(self.texts), len(self.label_names)), dtype=int)
        for row, post_labels in enumerate(self.labels):
            for label in post_labels:
                matrix[row, column[label]] = 1
        return matrix

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabelledSet:
        """Return the posts at `indices` (integer positions, or a boolean mask of length n_posts)."""
        positions = np.asarray(indices)
        if positions.dtype == bool:
            if positions.shape != (len(self.texts),):
                raise ValueError(f"boolean mask has shape {positions.shape}. Expected ({len(self.texts)},)")
            positions = np.flatnonzero(positions)
        chosen = [int(position) for position in positions.ravel()]
        return LabelledSet(
            texts=[self.texts[i] for i in chosen],
            labels=[list(self.labels[i]) for i in chosen],
            label_names=list(self.label_names),
            source=self.source,
        )


@dataclass
class _Rows:
    """Rows read from a file, before validation: raw label names and the label space they belong to."""

    texts: list[str]
    labels: list[list[str]]
    row_numbers: list[str]
    attributes: dict[str, list[Any]]
    label_space: str  # "taxonomy" or the name of a view
    source: str


# Public API -------------------------------------------------------------------------------------


def load_labelled_set(
    path: str | Path,
    format: Format = "auto",
    taxonomy: Taxonomy | str | None = None,
    view: str | None = None,
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    duplicates: DuplicatePolicy = "error",
    label_dictionary: str | Path | None = None,
) -> LabelledSet:
    """Load a labelled post set from a file or folder.

    Args:
        path: The file or folder. ReDSM5 takes its folder or either of its two CSVs.
        format: One of `FORMATS`, or "auto" to detect it from the path and the columns.
        taxonomy: A `Taxonomy`, or a taxonomy name or file (default: depression14).
        view: A label view of the taxonomy (for example "phq9"). Posts labelled with taxonomy
            classes are mapped onto it. A set already labelled in that view is returned as is.
        text_column: The text column of the `generic` format.
        labels_column: The labels column of the `generic` format.
        duplicates: What to do with a post whose text (outer spaces ignored) equals an earlier
            post's: "error" raises, "drop" keeps the first, "keep" keeps both.
        label_dictionary: For `synsym-release` only, a JSON file mapping label name to one-hot
            index, as the SynSym authors ship with their processed benchmark CSVs.

    Returns:
        The set, in the taxonomy's label space, or in the view's when `view` is given or the
        format is labelled by PHQ-9 item (ReDSM5, PRIMATE, the 9-dim SynSym release).

    Raises:
        DataFormatError: The format cannot be detected, a column is missing, or a row has an
            empty text, an unknown label or a duplicate text. The message names the row and value.
    """
    data, _ = load_with_attributes(
        path,
        format,
        taxonomy,
        view,
        text_column=text_column,
        labels_column=labels_column,
        duplicates=duplicates,
        label_dictionary=label_dictionary,
    )
    return data


def load_with_attributes(
    path: str | Path,
    format: Format = "auto",
    taxonomy: Taxonomy | str | None = None,
    view: str | None = None,
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    duplicates: DuplicatePolicy = "error",
    label_dictionary: str | Path | None = None,
) -> tuple[LabelledSet, dict[str, list[Any]]]:
    """Load a labelled set like `load_labelled_set`, plus the per-post attributes the file has.

    Attributes are the columns of `ATTRIBUTE_COLUMNS` that the file has, such as a run's `style`
    and `kind`, aligned with the posts. The SynSym release's `type` column is returned as `style`.
    """
    resolved_taxonomy = _resolve_taxonomy(taxonomy)
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"labelled set {path} not found: pass the path of an existing file or folder")

    if format == "auto":
        format = detect_format(path, text_column=text_column, labels_column=labels_column)
        logger.info("detected format %r for %s", format, path)

    if format == "generic":
        rows = _read_generic(path, resolved_taxonomy, view, text_column, labels_column)
    elif format == "synsym-release":
        rows = _read_synsym_release(path, label_dictionary)
    elif format == "redsm5":
        rows = _read_redsm5(path)
    elif format == "primate":
        rows = _read_primate(path)
    elif format == "psysym":
        rows = _read_psysym(path)
    elif format == "run":
        rows = _read_run(path)
    else:
        raise DataFormatError(f"unknown format {format!r}. Use one of: auto, {', '.join(FORMATS)}")

    data, attributes = _validate_rows(rows, resolved_taxonomy, duplicates)
    if view is not None and view != rows.label_space:
        if rows.label_space != "taxonomy":
            raise DataFormatError(
                f"{rows.source} is labelled in view {rows.label_space!r} and cannot be mapped to view {view!r}. "
                f"Load it with view=None or view={rows.label_space!r}"
            )
        data = map_to_view(data, resolved_taxonomy, view)
    return data, attributes


def map_to_view(data: LabelledSet, taxonomy: Taxonomy | str | None, view: str) -> LabelledSet:
    """Map a set labelled with taxonomy classes onto a label view (for example PHQ-9 items).

    A post gets a view label when any of its classes maps onto it. Classes with no counterpart
    (Anger_Irritability in the PHQ-9 view) are dropped, so a post can end up with no label.
    A set whose label space already is the view's is returned unchanged.

    Raises:
        DataFormatError: The taxonomy has no such view, or the set's label space is neither
            the taxonomy's classes nor the view's labels.
    """
    resolved = _resolve_taxonomy(taxonomy)
    try:
        mapping = resolved.view(view)
    except KeyError as error:
        raise DataFormatError(str(error.args[0])) from None

    view_labels = list(mapping)
    if list(data.label_names) == view_labels:
        return data

    unknown = [name for name in data.label_names if name not in resolved.labels]
    if unknown:
        raise DataFormatError(
            f"{data.source}: cannot map to view {view!r} because labels {unknown} are not classes of taxonomy "
            f"{resolved.name!r} ({', '.join(resolved.labels)}). Map only sets labelled with taxonomy classes"
        )

    mapped = [resolved.map_labels(post_labels, view) for post_labels in data.labels]
    return LabelledSet(texts=list(data.texts), labels=mapped, label_names=view_labels, source=data.source)


def detect_format(path: str | Path, *, text_column: str = "text", labels_column: str = "labels") -> str:
    """Detect a labelled set's format from the path and its columns.

    Raises:
        DataFormatError: No format fits. The message lists each format tried and what it needs.
    """
    path = Path(path)
    tried = [
        "run (a folder or data.parquet with columns text, labels)",
        "redsm5 (redsm5_posts.csv with post_id, text next to redsm5_annotations.csv)",
        "primate (JSON with post_title, post_text, annotations)",
        "synsym-release (CSV with post, label)",
        "psysym (CSV with sentence and PsySym symptom columns)",
        f"generic (columns {text_column}, {labels_column})",
    ]

    if path.is_dir():
        if (path / "data.parquet").exists() or (path / "data.jsonl").exists():
            return "run"
        if _find_sibling(path, REDSM5_POSTS_FILES) and _find_sibling(path, REDSM5_ANNOTATIONS_FILES):
            return "redsm5"
        found = ", ".join(sorted(child.name for child in path.iterdir())) or "nothing"
        raise DataFormatError(
            f"cannot detect the format of folder {path}. Tried {'; '.join(tried)}. Found: {found}. "
            "Pass format= explicitly or point at a file."
        )

    columns = _peek_columns(path)
    column_set = set(columns)
    if path.name == "data.parquet" and {"text", "labels"} <= column_set:
        return "run"
    if {"post_title", "post_text", "annotations"} <= column_set:
        return "primate"
    if set(REDSM5_POSTS_COLUMNS) <= column_set or set(REDSM5_ANNOTATIONS_COLUMNS) <= column_set:
        return "redsm5"
    if {"post", "label"} <= column_set:
        return "synsym-release"
    if "sentence" in column_set and column_set & set(PSYSYM_SYMPTOMS):
        return "psysym"
    if {text_column, labels_column} <= column_set:
        return "generic"
    raise DataFormatError(
        f"cannot detect the format of {path}. Tried {'; '.join(tried)}. "
        f"Columns found: {', '.join(columns) or 'none'}. Pass format= explicitly, "
        "or text_column=/labels_column= for a generic file with other column names."
    )


# Readers ----------------------------------------------------------------------------------------


def _read_generic(
    path: Path, taxonomy: Taxonomy, view: str | None, text_column: str, labels_column: str
) -> _Rows:
    records = _read_records(path)
    source = str(path)
    _require_columns(records, (text_column, labels_column), source, "generic")

    texts: list[str] = []
    labels: list[list[str]] = []
    for number, record in enumerate(records, start=1):
        texts.append(_as_text(record.get(text_column)))
        labels.append(_parse_label_list(record.get(labels_column), source, number))

    label_space = "taxonomy"
    used = {label for post_labels in labels for label in post_labels}
    if view is not None and used and not used & set(taxonomy.labels):
        try:
            view_labels = set(taxonomy.view(view))
        except KeyError as error:
            raise DataFormatError(str(error.args[0])) from None
        if used <= view_labels:
            label_space = view

    return _Rows(
        texts=texts,
        labels=labels,
        row_numbers=[f"row {number}" for number in range(1, len(texts) + 1)],
        attributes=_collect_attributes(records),
        label_space=label_space,
        source=source,
    )


def _read_synsym_release(path: Path, label_dictionary: str | Path | None) -> _Rows:
    records = _read_records(path)
    source = str(path)
    _require_columns(records, ("post", "label"), source, "synsym-release")
    dictionary_names = _read_label_dictionary(Path(label_dictionary)) if label_dictionary is not None else None

    texts: list[str] = []
    labels: list[list[str]] = []
    label_space = "taxonomy"
    for number, record in enumerate(records, start=1):
        vector = _parse_one_hot(record.get("label"), source, number)
        names, space = _release_label_names(len(vector), dictionary_names, source, number)
        if number == 1:
            label_space = space
        elif space != label_space:
            raise DataFormatError(
                f"{source}: row {number}: label vector has {len(vector)} entries, but row 1's has a different "
                "length. Every row of one file must use the same label space"
            )
        texts.append(_as_text(record.get("post")))
        labels.append([name for name, flag in zip(names, vector, strict=True) if flag])

    # The release calls the style `type` and the sub-concept `description`.
    attributes = _collect_attributes(records)
    if "type" in records[0]:
        attributes["style"] = [_optional_text(record.get("type")) for record in records]
    if "description" in records[0]:
        attributes["sub_concept"] = [_optional_text(record.get("description")) for record in records]

    return _Rows(
        texts=texts,
        labels=labels,
        row_numbers=[f"row {number}" for number in range(1, len(texts) + 1)],
        attributes=attributes,
        label_space=label_space,
        source=source,
    )


def _read_redsm5(path: Path) -> _Rows:
    posts_path, annotations_path = _redsm5_paths(path)
    posts = _read_records(posts_path)
    annotations = _read_records(annotations_path)
    _require_columns(posts, REDSM5_POSTS_COLUMNS, str(posts_path), "redsm5 posts")
    # An annotations file with a header and no rows is valid: every post is then a negative.
    annotation_columns = _peek_columns(annotations_path)
    missing = [name for name in REDSM5_ANNOTATIONS_COLUMNS if name not in annotation_columns]
    if missing:
        raise DataFormatError(
            f"{annotations_path}: missing column {', '.join(repr(name) for name in missing)} for format "
            f"'redsm5 annotations'. Columns found: {', '.join(annotation_columns)}"
        )

    post_index: dict[str, int] = {}
    for number, record in enumerate(posts, start=1):
        post_id = _as_text(record.get("post_id")).strip()
        if post_id in post_index:
            raise DataFormatError(
                f"{posts_path}: rows {post_index[post_id] + 1} and {number} have the same post_id {post_id!r}. "
                "Each post must appear once"
            )
        post_index[post_id] = number - 1

    labels: list[list[str]] = [[] for _ in posts]
    for number, record in enumerate(annotations, start=1):
        post_id = _as_text(record.get("post_id")).strip()
        symptom = _as_text(record.get("DSM5_symptom")).strip()
        status = _as_text(record.get("status")).strip()
        where = f"{annotations_path}: row {number}"
        if post_id not in post_index:
            raise DataFormatError(
                f"{where}: post_id {post_id!r} is not in {posts_path.name}. Add the post or drop the row"
            )
        if symptom not in REDSM5_TO_PHQ9:
            raise DataFormatError(
                f"{where}: unknown DSM5_symptom {symptom!r}{_suggestion(symptom, REDSM5_TO_PHQ9)}. "
                f"Known: {', '.join(REDSM5_TO_PHQ9)}"
            )
        if status not in ("0", "1"):
            raise DataFormatError(f"{where}: status {status!r} is invalid. ReDSM5 uses 1 (evidence) or 0 (absent)")
        target = REDSM5_TO_PHQ9[symptom]
        post_labels = labels[post_index[post_id]]
        if status == "1" and target is not None and target not in post_labels:
            post_labels.append(target)

    return _Rows(
        texts=[_as_text(record.get("text")) for record in posts],
        labels=labels,
        row_numbers=[f"row {number} (post_id {_as_text(r.get('post_id'))!r})" for number, r in enumerate(posts, 1)],
        attributes={},
        label_space=PHQ9_VIEW,
        source=str(posts_path),
    )


def _read_primate(path: Path) -> _Rows:
    records = _read_records(path)
    source = str(path)
    _require_columns(records, ("post_title", "post_text", "annotations"), source, "primate")

    texts: list[str] = []
    labels: list[list[str]] = []
    for number, record in enumerate(records, start=1):
        title = _as_text(record.get("post_title")).strip()
        body = _as_text(record.get("post_text")).strip()
        # The PRIMATE annotators judged title and text together, so both are kept.
        texts.append(f"{title}\n\n{body}" if title and body else title or body)
        labels.append(_parse_primate_annotations(record.get("annotations"), source, number))

    return _Rows(
        texts=texts,
        labels=labels,
        row_numbers=[f"post {number}" for number in range(1, len(texts) + 1)],
        attributes={},
        label_space=PHQ9_VIEW,
        source=source,
    )


def _read_psysym(path: Path) -> _Rows:
    records = _read_records(path)
    source = str(path)
    _require_columns(records, ("sentence",), source, "psysym")
    symptom_columns = [name for name in records[0] if name in PSYSYM_SYMPTOMS]
    if not symptom_columns:
        raise DataFormatError(
            f"{source}: no PsySym symptom column found. Columns found: {', '.join(records[0])}. "
            f"A PsySym CSV has one 0/1 column per symptom ({', '.join(PSYSYM_SYMPTOMS[:3])}, ...)"
        )

    texts: list[str] = []
    labels: list[list[str]] = []
    masked = 0
    for number, record in enumerate(records, start=1):
        post_labels: list[str] = []
        for column in symptom_columns:
            value = _as_text(record.get(column)).strip()
            if value in ("1", "1.0"):
                target = PSYSYM_TO_DEPRESSION14.get(column)
                if target is not None:
                    post_labels.append(target)
            elif value in ("-1", "-1.0"):
                masked += 1
            elif value not in ("0", "0.0", ""):
                raise DataFormatError(
                    f"{source}: row {number}: column {column!r} has value {value!r}. PsySym uses 1, 0 or -1"
                )
        texts.append(_as_text(record.get("sentence")))
        labels.append(post_labels)

    if masked:
        logger.warning("%s: %d symptom cells are -1 (not annotated) and count as absent", source, masked)
    return _Rows(
        texts=texts,
        labels=labels,
        row_numbers=[f"row {number}" for number in range(1, len(texts) + 1)],
        attributes={},
        label_space="taxonomy",
        source=source,
    )


def _read_run(path: Path) -> _Rows:
    folder = path if path.is_dir() else path.parent
    data_path = path if path.is_file() else folder / "data.parquet"
    if not data_path.exists() and (folder / "data.jsonl").exists():
        data_path = folder / "data.jsonl"
    if not data_path.exists():
        raise DataFormatError(
            f"run folder {folder} has no data.parquet or data.jsonl. Pass the folder of a finished run"
        )

    records = _read_records(data_path)
    source = str(data_path)
    _require_columns(records, ("text", "labels"), source, "run")
    labels = [_parse_label_list(record.get("labels"), source, number) for number, record in enumerate(records, 1)]
    return _Rows(
        texts=[_as_text(record.get("text")) for record in records],
        labels=labels,
        row_numbers=[f"row {number} (id {record.get('id')!r})" for number, record in enumerate(records, 1)],
        attributes=_collect_attributes(records),
        label_space="taxonomy",
        source=source,
    )


# Validation -------------------------------------------------------------------------------------


def _validate_rows(
    rows: _Rows, taxonomy: Taxonomy, duplicates: DuplicatePolicy
) -> tuple[LabelledSet, dict[str, list[Any]]]:
    if duplicates not in ("error", "drop", "keep"):
        raise DataFormatError(f"duplicates={duplicates!r} is invalid. Use 'error', 'drop' or 'keep'")
    label_names = _label_space_names(rows, taxonomy)
    known = set(label_names)

    keep: list[int] = []
    first_row_of_text: dict[str, int] = {}
    dropped = 0
    for index, (text, post_labels) in enumerate(zip(rows.texts, rows.labels, strict=True)):
        where = f"{rows.source}: {rows.row_numbers[index]}"
        if not text.strip():
            raise DataFormatError(f"{where}: the text is empty. Fill in the post or remove the row")

        for label in post_labels:
            if label not in known:
                raise DataFormatError(
                    f"{where}: unknown label {label!r}{_suggestion(label, label_names)}. "
                    f"Known labels: {', '.join(label_names)}. Fix the name or pass the taxonomy that defines it."
                )

        key = text.strip()
        if key in first_row_of_text:
            if duplicates == "error":
                first = rows.row_numbers[first_row_of_text[key]]
                raise DataFormatError(
                    f"{rows.source}: {first} and {rows.row_numbers[index]} have the same text {_preview(key)!r}. "
                    "Remove one, or pass duplicates='drop' to keep the first (duplicates='keep' keeps both)"
                )
            if duplicates == "drop":
                dropped += 1
                continue
        else:
            first_row_of_text[key] = index
        keep.append(index)

    if dropped:
        logger.warning("%s: dropped %d posts whose text repeats an earlier post", rows.source, dropped)

    position = {name: index for index, name in enumerate(label_names)}
    data = LabelledSet(
        texts=[rows.texts[i] for i in keep],
        labels=[sorted(set(rows.labels[i]), key=position.__getitem__) for i in keep],
        label_names=label_names,
        source=rows.source,
    )
    attributes = {name: [values[i] for i in keep] for name, values in rows.attributes.items()}
    return data, attributes


def _label_space_names(rows: _Rows, taxonomy: Taxonomy) -> list[str]:
    if rows.label_space == "taxonomy":
        return list(taxonomy.labels)
    try:
        view_labels = list(taxonomy.view(rows.label_space))
    except KeyError:
        raise DataFormatError(
            f"{rows.source} is labelled by PHQ-9 item, but taxonomy {taxonomy.name!r} has no {rows.label_space!r} "
            "view. Add the view to the taxonomy file or use depression14"
        ) from None
    return view_labels


# File and value helpers -------------------------------------------------------------------------


def _resolve_taxonomy(taxonomy: Taxonomy | str | Path | None) -> Taxonomy:
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    return load_taxonomy(taxonomy) if taxonomy is not None else load_taxonomy()


def _read_records(path: Path) -> list[dict[str, Any]]:
    """Read a CSV, TSV, JSON (a list of objects), JSONL or Parquet file as a list of dicts."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        import pandas as pd

        try:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise DataFormatError(f"{path} is empty. A labelled set needs a header row and at least one post") from None
        return frame.to_dict(orient="records")
    if suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path).to_dict(orient="records")
    if suffix == ".jsonl":
        records = []
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(f"{path}: line {line_number} is not valid JSON: {error}") from None
            if not isinstance(record, dict):
                raise DataFormatError(f"{path}: line {line_number} is a {type(record).__name__}, expected an object")
            records.append(record)
        return records
    if suffix == ".json":
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{path} is not valid JSON: {error}") from None
        if isinstance(loaded, dict):
            # A single object that wraps the post list, as some exports do ({"data": [...]}).
            lists = [value for value in loaded.values() if isinstance(value, list)]
            if len(lists) == 1:
                loaded = lists[0]
        if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
            raise DataFormatError(f"{path}: expected a JSON list of objects, one per post")
        return loaded
    raise DataFormatError(f"{path}: unsupported file type {suffix!r}. Use .csv, .tsv, .json, .jsonl or .parquet")


def _peek_columns(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        import pandas as pd

        try:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", nrows=0)
        except pd.errors.EmptyDataError:
            raise DataFormatError(f"{path} is empty. A labelled set needs a header row and at least one post") from None
        return [str(name) for name in frame.columns]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    records = _read_records(path)
    return list(records[0]) if records else []


def _require_columns(records: list[dict[str, Any]], required: Sequence[str], source: str, format_name: str) -> None:
    if not records:
        raise DataFormatError(f"{source} has no rows. A labelled set needs at least one post")
    found = list(records[0])
    missing = [name for name in required if name not in found]
    if missing:
        raise DataFormatError(
            f"{source}: missing column {', '.join(repr(name) for name in missing)} for format {format_name!r}. "
            f"Columns found: {', '.join(found)}. Rename the column, or for a generic file pass "
            "text_column=/labels_column="
        )


def _collect_attributes(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    present = [name for name in ATTRIBUTE_COLUMNS if records and name in records[0]]
    return {name: [_optional_value(record.get(name)) for record in records] for name in present}


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _optional_text(value: Any) -> str | None:
    text = _as_text(value).strip()
    return text or None


def _optional_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _parse_label_list(value: Any, source: str, number: int) -> list[str]:
    """Parse a labels cell: a list, a JSON list in a string, or names joined by ';'."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = value
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                raise DataFormatError(
                    f"{source}: row {number}: labels {text!r} look like a JSON list but are not valid JSON. "
                    'Write ["A", "B"] or A;B'
                ) from None
            if not isinstance(items, list):
                raise DataFormatError(f"{source}: row {number}: labels {text!r} must be a list of names")
        else:
            items = text.split(";")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise DataFormatError(f"{source}: row {number}: label {item!r} is not a label name (a string)")
        if item.strip():
            names.append(item.strip())
    return names


def _parse_one_hot(value: Any, source: str, number: int) -> list[int]:
    raw = value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, list) or any(item not in (0, 1) for item in value):
        raise DataFormatError(
            f"{source}: row {number}: label {raw!r} is not a one-hot list of 0 and 1 such as [0, 1, 0]"
        )
    return [int(item) for item in value]


def _read_label_dictionary(path: Path) -> list[str]:
    """Read the authors' label dictionary ({name: index}) as names in index order."""
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DataFormatError(f"label dictionary {path} cannot be read as JSON: {error}") from None
    if not isinstance(mapping, dict) or sorted(mapping.values()) != list(range(len(mapping))):
        raise DataFormatError(f"label dictionary {path} must map each label name to its index 0..n-1")
    return [name for name, _ in sorted(mapping.items(), key=lambda item: item[1])]


def _release_label_names(
    length: int, dictionary_names: list[str] | None, source: str, number: int
) -> tuple[list[str], str]:
    """Return the label name of each one-hot position and the label space they belong to."""
    if dictionary_names is not None:
        if length != len(dictionary_names):
            raise DataFormatError(
                f"{source}: row {number}: label vector has {length} entries but the label dictionary "
                f"names {len(dictionary_names)}"
            )
        if all(name in SYNSYM_RELEASE_PHQ9_TO_VIEW for name in dictionary_names):
            return [SYNSYM_RELEASE_PHQ9_TO_VIEW[name] for name in dictionary_names], PHQ9_VIEW
        return list(dictionary_names), "taxonomy"
    if length == len(SYNSYM_RELEASE_LABELS):
        return list(SYNSYM_RELEASE_LABELS), "taxonomy"
    if length == len(SYNSYM_RELEASE_PHQ9_TO_VIEW):
        return list(SYNSYM_RELEASE_PHQ9_TO_VIEW.values()), PHQ9_VIEW
    raise DataFormatError(
        f"{source}: row {number}: label vector has {length} entries. The SynSym release uses 14 (classes) "
        "or 9 (PHQ-9). For another order pass label_dictionary= (the authors' symptom_dictionary.json)"
    )


def _parse_primate_annotations(value: Any, source: str, number: int) -> list[str]:
    where = f"{source}: post {number}"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DataFormatError(f"{where}: annotations {value!r} are not a JSON list") from None
    if not isinstance(value, list):
        raise DataFormatError(f"{where}: annotations must be a list of [question, 'yes'/'no'] pairs")

    post_labels: list[str] = []
    for pair in value:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise DataFormatError(f"{where}: annotation {pair!r} must be a [question, 'yes'/'no'] pair")
        question = str(pair[0]).strip()
        answer = str(pair[1]).strip().lower()
        if question not in PRIMATE_TO_PHQ9:
            raise DataFormatError(
                f"{where}: unknown PHQ-9 question {question!r}{_suggestion(question, PRIMATE_TO_PHQ9)}. "
                f"Known: {', '.join(PRIMATE_TO_PHQ9)}"
            )
        if answer not in ("yes", "no"):
            raise DataFormatError(f"{where}: answer {pair[1]!r} to {question!r} is invalid. Use 'yes' or 'no'")
        if answer == "yes" and PRIMATE_TO_PHQ9[question] not in post_labels:
            post_labels.append(PRIMATE_TO_PHQ9[question])
    return post_labels


def _redsm5_paths(path: Path) -> tuple[Path, Path]:
    folder = path if path.is_dir() else path.parent
    if path.is_file():
        columns = set(_peek_columns(path))
        if set(REDSM5_ANNOTATIONS_COLUMNS) <= columns:
            posts = _find_sibling(folder, REDSM5_POSTS_FILES)
            annotations = path
        else:
            posts = path
            annotations = _find_sibling(folder, REDSM5_ANNOTATIONS_FILES)
    else:
        posts = _find_sibling(folder, REDSM5_POSTS_FILES)
        annotations = _find_sibling(folder, REDSM5_ANNOTATIONS_FILES)
    if posts is None or annotations is None:
        raise DataFormatError(
            f"ReDSM5 needs the posts CSV ({' or '.join(REDSM5_POSTS_FILES)}) and the annotations CSV "
            f"({' or '.join(REDSM5_ANNOTATIONS_FILES)}) in one folder, but {folder} contains "
            f"{', '.join(sorted(child.name for child in folder.iterdir())) or 'no files'}"
        )
    return posts, annotations


def _find_sibling(folder: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _suggestion(value: str, known: Mapping[str, Any] | Sequence[str]) -> str:
    matches = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    if not matches:
        lowered = {name.lower(): name for name in known}
        if value.lower() in lowered:
            matches = [lowered[value.lower()]]
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
