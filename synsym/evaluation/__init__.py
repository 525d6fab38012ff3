"""Evaluation: labelled sets, data-set profiles, classifiers, metrics and reports.

Import the submodules directly (`from synsym.evaluation.data import load_labelled_set`).
This package imports nothing at import time, so `import synsym.evaluation` stays cheap
and does not load torch, transformers or scikit-learn.
"""
