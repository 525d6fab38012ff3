"""The gold set of an optimisation: loading, sampling, the stratified split, and its fingerprint.

The split is multi-label stratified (iterative stratification) with a fixed seed, so the
same recipe always gives the same optimisation and held-out posts. The optimiser's metric
reads only the optimisation part, and the held-out part scores the starting and the optimised
program once, for the report.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from synsym.evaluation.data import LabelledSet, load_labelled_set
from synsym.evaluation.runner import reference_set_path
from synsym.evaluation.splits import iterative_train_test_split
from synsym.optimization.recipe import REFERENCE, GoldSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GoldSplit:
    """A gold set cut into the part the optimiser scores on and the part it never reads."""

    optimization: LabelledSet
    held_out: LabelledSet
    source: str
    fingerprint: str


def fingerprint_set(data: LabelledSet) -> str:
    """Return a digest of the posts and their labels, independent of their order."""
    digest = hashlib.sha256()
    for text, labels in sorted(zip(data.texts, data.labels), key=lambda pair: pair[0]):
        digest.update(text.encode())
        digest.update(b"\x1f")
        digest.update(";".join(sorted(labels)).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def load_gold(settings: GoldSettings, taxonomy: str = "depression14") -> LabelledSet:
    """Load the gold set named in the recipe and draw the recipe's sample from it."""
    path = reference_set_path() if settings.path == REFERENCE else settings.path
    data = load_labelled_set(path, format=settings.format, taxonomy=taxonomy, duplicates="keep")
    if settings.sample is not None and settings.sample < len(data):
        rng = np.random.default_rng(settings.seed)
        chosen = np.sort(rng.choice(len(data), size=settings.sample, replace=False))
        data = data.subset(chosen)
        logger.info("sampled %d of the gold set's posts (seed %d)", len(data), settings.seed)
    return data


def split_gold(data: LabelledSet, holdout_fraction: float, seed: int) -> tuple[LabelledSet, LabelledSet]:
    """Split into (optimisation, held-out) parts that keep each label's share."""
    optimization_index, held_out_index = iterative_train_test_split(data.label_matrix(), holdout_fraction, seed=seed)
    return data.subset(optimization_index), data.subset(held_out_index)


def prepare_gold(settings: GoldSettings, taxonomy: str = "depression14") -> GoldSplit:
    """Load, sample and split the gold set of a recipe."""
    data = load_gold(settings, taxonomy)
    optimization, held_out = split_gold(data, settings.holdout_fraction, settings.seed)
    logger.info("gold set %s: %d posts for optimisation, %d held out", data.source, len(optimization), len(held_out))
    return GoldSplit(optimization=optimization, held_out=held_out, source=data.source, fingerprint=fingerprint_set(data))
