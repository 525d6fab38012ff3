"""The SynSym reference set (CC BY 4.0, SynSym authors) loads as a generic file; skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synsym.evaluation.data import DataFormatError, load_labelled_set

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = Path(os.environ.get("SYNSYM_REFERENCE_DIR", REPO_ROOT.parent / "shared/data/synsym-reference"))
DEV_CSV = REFERENCE_DIR / "dev.csv"

pytestmark = pytest.mark.skipif(not DEV_CSV.is_file(), reason=f"reference set not found at {DEV_CSV}")


def test_reference_dev_set_loads_with_duplicates_kept():
    data = load_labelled_set(DEV_CSV, duplicates="keep")

    assert len(data) == 9169
    assert all(1 <= len(labels) <= 5 for labels in data.labels)


def test_reference_dev_set_reports_its_duplicates():
    with pytest.raises(DataFormatError, match="have the same text"):
        load_labelled_set(DEV_CSV)
