"""Time each classifier: seconds to train on N posts and to score N posts (not a test).

Posts are drawn with replacement from the SynSym reference set when it is present
($SYNSYM_REFERENCE_DIR or ../shared/data/synsym-reference), else built from a few
self-written templates. The fine-tuned classifier can be timed on fewer posts
(--finetune-posts). Its figures are then scaled linearly to N posts and marked as an estimate.

Usage:
    nice -n 10 python eval/benchmarks/classifier_speed.py --posts 10000 --finetune-posts 500
"""

from __future__ import annotations

import argparse
import logging
import platform
import time

import numpy as np
import torch

from synsym.evaluation.classifiers import build_classifier
from synsym.evaluation.data import LabelledSet, load_labelled_set
from synsym.evaluation.runner import EvaluationError, reference_set_path
from synsym.taxonomy import load_taxonomy

logger = logging.getLogger(__name__)

TEMPLATE_PHRASES = {
    "Sleep_disturbance": ["i lie awake until {hour} every night", "i wake at {hour} and cannot sleep again"],
    "Decreased_energy_tiredness_fatigue": ["i am exhausted by {hour}", "no energy left, even at {hour}"],
    "Pessimism": ["nothing will get better after {hour}", "i expect the worst every day at {hour}"],
    "Weight_and_appetite_change": ["i skipped every meal until {hour}", "i keep eating late, past {hour}"],
}


def sample_posts(n_posts: int, seed: int) -> tuple[LabelledSet, str]:
    """Return `n_posts` posts drawn with replacement, and a description of their source."""
    rng = np.random.default_rng(seed)
    try:
        reference = load_labelled_set(reference_set_path(), duplicates="keep")
        order = rng.integers(0, len(reference.texts), size=n_posts)
        return reference.subset(order), f"SynSym reference set ({len(reference.texts)} posts), drawn with replacement"
    except EvaluationError:
        texts, labels = [], []
        names = list(TEMPLATE_PHRASES)
        for _ in range(n_posts):
            label = names[rng.integers(len(names))]
            phrases = TEMPLATE_PHRASES[label]
            texts.append(phrases[rng.integers(len(phrases))].format(hour=f"{rng.integers(1, 12)}am"))
            labels.append([label])
        return LabelledSet(texts, labels, load_taxonomy().labels, "templates"), "self-written templates"


def time_classifier(name: str, params: dict[str, object], train: LabelledSet, test: LabelledSet) -> tuple[float, float]:
    """Return (seconds to fit, seconds to predict)."""
    clf = build_classifier(name, **params)
    started = time.perf_counter()
    clf.fit(train.texts, train.label_matrix())
    fitted = time.perf_counter()
    clf.predict(test.texts)
    return fitted - started, time.perf_counter() - fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000, help="posts to train on and to score (default: 10000)")
    parser.add_argument(
        "--finetune-posts", type=int, default=10_000, help="posts for the finetune timing (default: 10000)"
    )
    parser.add_argument("--finetune-epochs", type=int, default=1, help="fixed finetune epochs (default: 1)")
    parser.add_argument(
        "--classifiers", default="tfidf,embedding,finetune", help="comma-separated classifiers (default: all three)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    train, source = sample_posts(args.posts, seed=0)
    test, _ = sample_posts(args.posts, seed=1)
    print(f"posts: {source}; machine: {platform.processor() or platform.machine()}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print("| classifier | posts timed | train s | score s | train s at N | score s at N | note |")
    print("|---|---|---|---|---|---|---|")
    for name in [item.strip() for item in args.classifiers.split(",") if item.strip()]:
        params: dict[str, object] = {}
        n_timed = args.posts
        if name == "finetune":
            n_timed = min(args.finetune_posts, args.posts)
            params = {"max_epochs": args.finetune_epochs, "validation_fraction": 0.0, "max_length": 128}
        fit_seconds, predict_seconds = time_classifier(name, params, train.subset(range(n_timed)),
                                                       test.subset(range(n_timed)))  # fmt: skip
        scale = args.posts / n_timed
        note = "measured" if scale == 1 else f"estimate: measured on {n_timed} posts, scaled x{scale:g}"
        if name == "finetune":
            note += f"; {args.finetune_epochs} epoch(s), max_length 128, batch 16"
        print(f"| {name} | {n_timed} | {fit_seconds:.1f} | {predict_seconds:.1f} | {fit_seconds * scale:.1f} "
              f"| {predict_seconds * scale:.1f} | {note} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
