"""Gold sets of a study: load once, sample, and restrict to the symptoms a cell generates."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from synsym.evaluation.data import LabelledSet, load_labelled_set, map_to_view
from synsym.evaluation.runner import reference_set_path
from synsym.evaluation.splits import stratify_multilabel
from synsym.study.recipe import REFERENCE, GoldSet
from synsym.taxonomy import load_taxonomy

logger = logging.getLogger(__name__)


class GoldSets:
    """Loads each gold set once per study and hands out the version a cell is scored on."""

    def __init__(self, specs: Sequence[GoldSet], taxonomy: str):
        self.specs = list(specs)
        self.taxonomy = taxonomy
        self._loaded: dict[str, LabelledSet] = {}
        self._restricted: dict[tuple[str, str, tuple[str, ...] | None], LabelledSet] = {}

    def load(self, spec: GoldSet) -> LabelledSet:
        """Return the gold set in its full label space (sampled when `spec.sample` is set)."""
        if spec.label not in self._loaded:
            path = reference_set_path() if spec.path == REFERENCE else spec.path
            # Duplicate texts are kept: the reference set repeats a few posts, and dropping them would change its size.
            data = load_labelled_set(path, format=spec.format, taxonomy=self.taxonomy, view=spec.view, duplicates="keep")
            if spec.sample is not None and spec.sample < len(data):
                data = sample_stratified(data, spec.sample, spec.sample_seed)
            logger.info("gold set %s: %d posts, %d labels", spec.label, len(data), len(data.label_names))
            self._loaded[spec.label] = data
        return self._loaded[spec.label]

    def for_cell(self, spec: GoldSet, taxonomy: str, symptoms: list[str] | None) -> LabelledSet:
        """Return the gold set a cell is scored on.

        With `label_space="generated"` and a cell that generates only some symptoms, the
        label space shrinks to those symptoms (or to the view labels they map onto); posts
        keep their place and lose the other labels, so they still count as negatives.
        """
        data = self.load(spec)
        if spec.label_space == "all" or symptoms is None:
            return data
        key = (spec.label, taxonomy, tuple(symptoms))
        if key not in self._restricted:
            self._restricted[key] = restrict_labels(data, generated_labels(taxonomy, symptoms, spec.view))
        return self._restricted[key]


def generated_labels(taxonomy: str, symptoms: list[str], view: str | None) -> list[str]:
    """Return the labels, in the taxonomy's or the view's order, that posts about `symptoms` can carry."""
    resolved = load_taxonomy(taxonomy)
    if view is None:
        return [label for label in resolved.labels if label in symptoms]
    probe = LabelledSet(texts=list(symptoms), labels=[[name] for name in symptoms], label_names=list(resolved.labels))
    mapped = map_to_view(probe, resolved, view)
    reached = {label for post_labels in mapped.labels for label in post_labels}
    return [label for label in mapped.label_names if label in reached]


def restrict_labels(data: LabelledSet, labels: list[str]) -> LabelledSet:
    """Return `data` with only `labels` in its label space; every post is kept."""
    kept = set(labels)
    return LabelledSet(
        texts=list(data.texts),
        labels=[[label for label in post_labels if label in kept] for post_labels in data.labels],
        label_names=[label for label in data.label_names if label in kept],
        source=f"{data.source} (labels: {', '.join(labels)})",
    )


def sample_stratified(data: LabelledSet, size: int, seed: int) -> LabelledSet:
    """Return `size` posts of `data` drawn so that every label keeps about its share."""
    part = stratify_multilabel(data.label_matrix(), [size, len(data) - size], seed=seed)
    chosen = np.flatnonzero(part == 0)
    sampled = data.subset(chosen)
    return LabelledSet(sampled.texts, sampled.labels, sampled.label_names, source=f"{data.source} (sample of {len(chosen)}, seed {seed})")
