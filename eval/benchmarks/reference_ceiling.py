"""Sanity ceiling: train a classifier on one half of the SynSym reference set, score the other half.

Both halves come from the same generator and prompts, so this macro-F1 is an upper
reference point for a classifier trained on generated posts and scored on these posts,
not an estimate of performance on real user posts.

Usage:
    nice -n 10 python eval/benchmarks/reference_ceiling.py --classifier tfidf --seed 0
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from synsym.evaluation.data import load_labelled_set
from synsym.evaluation.runner import evaluate_generated, reference_set_path

logger = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier", default="tfidf", help="classifier to train (default: tfidf)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random half split (default: 0)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    path = reference_set_path()
    reference = load_labelled_set(path, duplicates="keep")
    order = np.random.default_rng(args.seed).permutation(len(reference.texts))
    half = len(order) // 2
    train, test = reference.subset(order[:half]), reference.subset(order[half:])

    started = time.perf_counter()
    scores = evaluate_generated(train, test, classifier=args.classifier, bootstrap=args.bootstrap)
    seconds = time.perf_counter() - started
    low, high = scores["macro_f1_ci95"]

    print(f"reference set: {path} ({len(reference.texts)} posts); split seed {args.seed}: "
          f"train {len(train.texts)}, test {len(test.texts)}")  # fmt: skip
    print(f"classifier {args.classifier}: macro-F1 {scores['macro_f1']:.4f} "
          f"(95% bootstrap interval {low:.4f} to {high:.4f}, {args.bootstrap} resamples), "
          f"micro-F1 {scores['micro_f1']:.4f}, {seconds:.1f} s")  # fmt: skip
    print("| symptom | support | precision | recall | F1 |")
    print("|---|---|---|---|---|")
    for label, item in scores["per_label"].items():
        print(f"| {label} | {item['support']} | {item['precision']:.3f} | {item['recall']:.3f} | {item['f1']:.3f} |")


if __name__ == "__main__":
    main()
