"""Run a study: generate each cell's data, profile it, score it on every gold set, log the result.

The study folder holds:

- `recipe.json`: the validated recipe of the latest run;
- `runs/<variant>-seed<k>/`: one resumable run folder per cell;
- `cache/`: DSPy's response cache (when `share_cache` is on), shared by every cell;
- `results.jsonl`: one record per finished cell, appended and fsynced as each cell ends;
- `report.md`, `report.json`, `macro_f1.png`: written from `results.jsonl` at the end.

Three things are shared between cells. One `LMHandle` per LM, so a local model is loaded
once. DSPy's response cache: unit rollout ids derive from (seed, unit id, attempt), so two
cells with the same seed that make the same call (same prompt, same rollout id) get one
cached answer. And whole generations: cells whose settings differ only in fields that do
not change the LM calls (`synsym.config.RESUMABLE_FIELDS`, such as `threshold`) re-filter
the units of the first such cell instead of generating again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dspy

from synsym import __version__
from synsym.config import ConfigError, GenerationConfig, load_config
from synsym.dataset import GeneratedData
from synsym.evaluation.data import load_labelled_set
from synsym.evaluation.profile import profile_path
from synsym.evaluation.runner import evaluate_generated
from synsym.lm import LMHandle, build_lm
from synsym.modules import SynSymProgram
from synsym.programs import load_program
from synsym.runner import FolderStore, run_generation
from synsym.study.gold import GoldSets
from synsym.study.recipe import Cell, StudyError, StudyRecipe, plan_cells
from synsym.taxonomy import load_taxonomy

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.jsonl"
RECIPE_FILE = "recipe.json"
CACHE_FOLDER = "cache"

# Profile figures kept in results.jsonl; the full profile is recomputed by `synsym profile RUN`.
PROFILE_FIELDS = ("n_posts", "posts_per_style", "posts_per_kind", "labels_per_post", "length_words", "distinct_1", "distinct_2", "exact_duplicates", "embedding")


@contextlib.contextmanager
def study_cache(folder: Path, enabled: bool) -> Iterator[None]:
    """Point DSPy's response cache at `folder` for the duration of the block, then restore the previous one.

    `dspy.configure_cache` (DSPy 3.4.1) replaces the process-wide `dspy.cache`; the previous
    object is put back afterwards so that a study run from Python leaves DSPy as it found it.
    """
    if not enabled:
        yield
        return
    previous = vars(dspy).get("cache")
    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(folder))
    logger.info("DSPy response cache: %s", folder)
    try:
        yield
    finally:
        with dspy._cache_lock:
            if previous is None:
                # DSPy builds its default cache lazily on first read; removing ours restores that.
                vars(dspy).pop("cache", None)
            else:
                dspy.cache = previous


class RefilterOnlyLM(dspy.BaseLM):
    """An LM that raises on every call: a re-filtering cell must make no LM call.

    A unit that failed in the shared generation stays failed in the re-filtered cell, as
    it was in the cell that generated it.
    """

    def __init__(self, source: str):
        super().__init__(model="refilter-only", cache=False)
        self.source = source

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"this cell re-filters the units of {self.source} and makes no LM calls")

    def forward(self, *args, **kwargs):
        return self(*args, **kwargs)


class RefilterStore(FolderStore):
    """A run folder whose units are a copy of another run's, re-filtered at this cell's threshold.

    The copied `units.jsonl` keeps the folder self-contained: `synsym generate --config
    FOLDER/config.json` resumes it like any run. Records of the refused retries are not
    written, so the copy stays equal to the source.
    """

    def __init__(self, folder: str | Path, source: str | Path, config: GenerationConfig):
        super().__init__(folder)
        self.source = Path(source)
        self.config = config

    def prepare(self, config: GenerationConfig) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # The folder is derived from the source, so stale settings from an older recipe are replaced.
        (self.folder / "config.json").unlink(missing_ok=True)
        shutil.copyfile(self.source / "units.jsonl", self.units_path)
        super().prepare(self.config)

    def append(self, record: dict) -> None:
        pass

    def finish(self, data: GeneratedData, config: GenerationConfig) -> None:
        super().finish(data, self.config)


@dataclass
class LMPool:
    """One `LMHandle` per LM of the study, built on first use and reused by every cell."""

    n_threads: int | None = None
    handles: dict[str, LMHandle] = field(default_factory=dict)

    def get(self, config: GenerationConfig) -> LMHandle:
        """Return the handle for `config.lm`, set to the config's temperature and max_tokens."""
        key = config.lm if config.api_base is None else f"{config.lm}@{config.api_base}"
        handle = self.handles.get(key) or self.handles.get(config.lm)
        if handle is None:
            logger.info("building LM %s", config.lm)
            handle = build_lm(config.lm, temperature=config.temperature, max_tokens=config.max_tokens,
                              api_base=config.api_base, n_threads=self.n_threads, grammar=config.grammar)
            self.handles[key] = handle
        expected = {"temperature": config.temperature, "max_tokens": config.max_tokens}
        current = {name: handle.lm.kwargs.get(name) for name in expected}
        if current != expected:
            # A copy shares the loaded model (DSPy LM copies share their engine) and differs only in sampling.
            handle = replace(handle, lm=handle.lm.copy(**expected), settings={**handle.settings, **expected})
        return handle


class ResultsLog:
    """The append-only `results.jsonl` of a study: one record per finished cell."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[str, dict]:
        """Return the latest record per cell name; a line cut short by a hard kill is ignored."""
        records: dict[str, dict] = {}
        if not self.path.exists():
            return records
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("ignoring incomplete record on line %d of %s", number, self.path)
                continue
            records[record["cell"]] = record
        return records

    def append(self, record: dict) -> None:
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        with open(self.path, "a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")
            handle.write(json.dumps(record, ensure_ascii=False, allow_nan=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def cell_fingerprint(cell: Cell, recipe: StudyRecipe) -> str:
    """Return a digest of everything that decides a cell's result.

    A finished cell whose fingerprint still matches is skipped on resume; after a change to
    its generation settings, threshold, classifier, gold sets or profile settings it is redone.
    """
    payload = {
        "generation": cell.config.generation_fields(),
        "threshold": cell.config.threshold,
        "evaluation": recipe.evaluation.model_dump(mode="json"),
        "gold": [gold.model_dump(mode="json") for gold in recipe.gold],
        "profile": recipe.profile.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class StudyRun:
    """The state one `run_study` call shares across cells."""

    recipe: StudyRecipe
    folder: Path
    lms: LMPool
    gold: GoldSets
    show_progress: bool
    programs: dict[str | None, SynSymProgram] = field(default_factory=dict)

    def program(self, path: str | None) -> SynSymProgram:
        if path not in self.programs:
            self.programs[path] = load_program(path) if path else SynSymProgram()
        return self.programs[path]


def run_study(
    recipe: StudyRecipe,
    folder: str | Path | None = None,
    *,
    lm_handles: Mapping[str, LMHandle] | None = None,
    n_threads: int | None = None,
    show_progress: bool = False,
    on_cell: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run (or resume) every cell of a study and return the latest record of each cell.

    Args:
        recipe: The validated recipe.
        folder: The study folder; `recipe.output` when None.
        lm_handles: Ready LMs keyed by their `lm` value (for tests, or to reuse a loaded model).
        n_threads: CPU threads for a local model (None: all cores).
        show_progress: Show the generation progress bars on stderr.
        on_cell: Called with each cell's record as soon as it is logged.

    Raises:
        StudyError: a run folder contains a run made with other settings.
    """
    folder = Path(folder or recipe.output or "runs/studies/study")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECIPE_FILE).write_text(json.dumps({"synsym_version": __version__, **recipe.model_dump(mode="json")}, indent=2) + "\n", encoding="utf-8")

    cells = plan_cells(recipe, folder)
    check_cells(cells)
    taxonomy = recipe.base.get("taxonomy", GenerationConfig.model_fields["taxonomy"].default)
    state = StudyRun(recipe, folder, LMPool(n_threads, dict(lm_handles or {})), GoldSets(recipe.gold, taxonomy), show_progress)
    log = ResultsLog(folder / RESULTS_FILE)
    finished = log.load()

    first_of_generation: dict[str, Cell] = {}
    with study_cache(folder / CACHE_FOLDER, recipe.share_cache):
        for number, cell in enumerate(cells, start=1):
            source = first_of_generation.setdefault(cell.generation_key(), cell)
            fingerprint = cell_fingerprint(cell, recipe)
            previous = finished.get(cell.name)
            if previous is not None and previous.get("fingerprint") == fingerprint:
                logger.info("cell %d/%d %s: already finished, skipped", number, len(cells), cell.name)
                continue
            logger.info("cell %d/%d %s: starting", number, len(cells), cell.name)
            record = run_cell(state, cell, None if source is cell else source)
            record["fingerprint"] = fingerprint
            log.append(record)
            finished[cell.name] = record
            if on_cell is not None:
                on_cell(record)
    return [finished[cell.name] for cell in cells if cell.name in finished]


def run_cell(state: StudyRun, cell: Cell, source: Cell | None) -> dict[str, Any]:
    """Generate (or re-filter), profile and score one cell; return its results record."""
    started = time.perf_counter()
    data, lm_calls = generate_cell(state, cell, source)
    generated_seconds = time.perf_counter() - started
    folder = Path(cell.config.output)
    profile, profile_error = profile_cell(state, cell, data)
    scores = score_cell(state, cell, data)
    return {
        "cell": cell.name,
        "variant": cell.variant,
        "seed": cell.seed,
        "run": str(folder),
        "overrides": cell.overrides,
        "lm": data.usage.get("lm", cell.config.lm),
        "shared_generation_from": None if source is None else source.name,
        "generation": {
            "posts_kept": len(data.rows),
            "posts_rejected": len(data.rejects),
            "duplicates_removed": data.usage.get("duplicates_removed", 0),
            "failed_units": data.usage.get("failed_units", 0),
            "lm_calls": lm_calls,
            "seconds": round(generated_seconds, 3),
        },
        "profile": profile,
        "profile_error": profile_error,
        "scores": scores,
        "seconds": round(time.perf_counter() - started, 3),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def generate_cell(state: StudyRun, cell: Cell, source: Cell | None) -> tuple[GeneratedData, int]:
    """Run or resume the cell's generation; return the data and the LM calls it made (cache hits excluded)."""
    config = cell.config
    program = state.program(config.program)
    if source is None:
        check_run_folder(cell)
        handle = state.lms.get(config)
        data = run_generation(program, config, FolderStore(config.output), lm=handle.lm, lm_name=handle.name,
                              is_local=handle.is_local, show_progress=state.show_progress)
        # DSPy reports no usage for cache hits, so this counts only calls that reached the LM.
        return data, int(data.usage.get("calls", 0))

    # The LM name comes from the source run, so a resumed study need not load the model for this cell.
    usage = json.loads((Path(source.config.output) / "usage.json").read_text(encoding="utf-8"))
    # One attempt per unit: every attempt is refused, so more would only repeat the log line.
    quiet = config.model_copy(update={"max_attempts": 1})
    store = RefilterStore(config.output, source.config.output, config)
    data = run_generation(program, quiet, store, lm=RefilterOnlyLM(source.name), lm_name=usage["lm"],
                          is_local=True, show_progress=False)
    return data, 0


def check_run_folder(cell: Cell) -> None:
    """Raise StudyError when the cell's run folder contains units made with other generation settings."""
    folder = Path(cell.config.output)
    config_path = folder / "config.json"
    if not (folder / "units.jsonl").exists() or not config_path.exists():
        return
    try:
        previous = load_config(config_path).generation_fields()
    except ConfigError:
        previous = {}
    current = cell.config.generation_fields()
    changed = sorted(key for key in set(current) | set(previous) if current.get(key) != previous.get(key))
    if changed:
        details = ", ".join(f"{key}: {previous.get(key)!r} -> {current.get(key)!r}" for key in changed)
        raise StudyError(
            f"run folder {folder} of cell {cell.name} contains a run made with other settings ({details}); "
            "if the recipe changed this variant on purpose, delete that folder or give the variant a new name"
        )


def check_cells(cells: list[Cell]) -> None:
    """Check every cell's symptoms and styles against its taxonomy before any LM call.

    Raises:
        StudyError: a variant names a symptom the taxonomy lacks, or a style with no guide.
    """
    taxonomies = {}
    for cell in cells:
        if cell.config.taxonomy not in taxonomies:
            taxonomies[cell.config.taxonomy] = load_taxonomy(cell.config.taxonomy)
        taxonomy = taxonomies[cell.config.taxonomy]
        unknown = sorted(set(cell.config.symptoms or []) - set(taxonomy.labels))
        if unknown:
            raise StudyError(f"variant {cell.variant!r}: symptom {unknown[0]!r} is not in taxonomy {taxonomy.name!r}; known: {', '.join(taxonomy.labels)}")
        guides = {**taxonomy.styles, **cell.config.style_guides}
        missing = [style for style in cell.config.styles if style not in guides]
        if missing:
            raise StudyError(
                f"variant {cell.variant!r}: style {missing[0]!r} has no description; known styles: {', '.join(guides)}. "
                f"Add one under style_guides, e.g. style_guides = {{ {missing[0]} = \"short tweet under 200 characters\" }}"
            )


def profile_cell(state: StudyRun, cell: Cell, data: GeneratedData) -> tuple[dict | None, str | None]:
    """Profile the cell's kept posts; return (selected profile figures, error message)."""
    settings = state.recipe.profile
    if not data.rows:
        return None, "the cell kept no posts"
    try:
        profile = profile_path(cell.config.output, format="run", taxonomy=cell.config.taxonomy,
                               embeddings=settings.embeddings, sample_size=settings.sample_size)
    except ValueError as error:
        logger.warning("cell %s: profile failed: %s", cell.name, error)
        return None, str(error)
    return {name: profile.get(name) for name in PROFILE_FIELDS}, None


def score_cell(state: StudyRun, cell: Cell, data: GeneratedData) -> dict[str, dict]:
    """Train the classifier on the cell's posts and score it on each gold set.

    A gold set the cell cannot be scored on (no kept posts, no shared label) gets an
    `error` entry instead of scores, and the study goes on.
    """
    settings = state.recipe.evaluation
    scores: dict[str, dict] = {}
    if not data.rows:
        return {spec.label: {"error": "the cell kept no posts, so no classifier was trained"} for spec in state.recipe.gold}
    train = load_labelled_set(cell.config.output, format="run", taxonomy=cell.config.taxonomy, duplicates="keep")
    for spec in state.recipe.gold:
        try:
            gold = state.gold.for_cell(spec, cell.config.taxonomy, cell.config.symptoms)
            result = evaluate_generated(
                train, gold, settings.classifier, classifier_params=settings.classifier_params, view=spec.view,
                taxonomy=cell.config.taxonomy, threshold=settings.threshold, seeds=settings.seeds,
                bootstrap=settings.bootstrap, labels=settings.labels,
            )
        except ValueError as error:
            # Input errors of the evaluation package (data, classifier, regime) all subclass ValueError.
            logger.warning("cell %s, gold set %s: not scored: %s", cell.name, spec.label, error)
            scores[spec.label] = {"error": str(error)}
            continue
        scores[spec.label] = {key: result[key] for key in ("macro_f1", "macro_f1_std", "macro_f1_ci95", "micro_f1", "per_label", "labels_averaged", "n_train", "n_test")}
    return scores


def report_study(recipe: StudyRecipe, folder: str | Path | None = None) -> dict[str, Path]:
    """Write the study report from `results.jsonl` (finished cells only); return the written paths."""
    from synsym.study.report import build_report, write_study_report

    folder = Path(folder or recipe.output or "runs/studies/study")
    cells = plan_cells(recipe, folder)
    records = ResultsLog(folder / RESULTS_FILE).load()
    fingerprints = {cell.name: cell_fingerprint(cell, recipe) for cell in cells}
    # A record made under other settings is left out, as a resume would redo that cell.
    current = [record for name, record in records.items() if fingerprints.get(name) == record.get("fingerprint")]
    return write_study_report(build_report(recipe, cells, current, folder), folder)
