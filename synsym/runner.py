"""The runner: turns a config into units of LM work, runs them, and resumes after interruption.

A unit is one LM call's worth of work (one expansion, one expression batch, one
composition batch, one judged post). Each finished unit, successful or failed after its
retries, is appended at once to the store (`units.jsonl` in a run folder, fsynced), so a
run stopped by Ctrl-C, a crash or `kill -9` resumes with the same command: finished units
are read back, not called again, and posts are identified by a digest of their text, so
nothing is lost or written twice.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dspy
from dspy.utils.exceptions import LMAuthError, LMBillingError, LMConfigurationError
from dspy.utils.usage_tracker import track_usage

from synsym import __version__
from synsym.config import ConfigError, GenerationConfig
from synsym.cooccurrence import clean_proposed, describe_prior, sample_combinations
from synsym.dataset import GeneratedData, write_outputs
from synsym.modules import SynSymProgram, normalize_text, program_fingerprint
from synsym.signatures import SubConcept, SymptomScore
from synsym.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

STAGES = ("expand", "propose", "express", "compose", "judge")

# LM errors that no retry can fix: a missing or rejected key, an exhausted quota, a
# provider that is not set up. The run stops at the first one instead of failing every unit.
FATAL_LM_ERRORS = (LMConfigurationError, LMAuthError, LMBillingError)


class LMSetupError(ConfigError):
    """An LM failure that retrying cannot fix, such as a missing or rejected API key."""


@dataclass
class Unit:
    """One unit of work: an id that is stable across reruns, its stage, and the call to make."""

    id: str
    stage: str
    call: Callable[[int], dict]


class MemoryStore:
    """Keeps unit records in memory (used by `SynSymProgram.forward` and by tests)."""

    def __init__(self):
        self.records: list[dict] = []

    def prepare(self, config: GenerationConfig) -> None:
        pass

    def load(self) -> list[dict]:
        return list(self.records)

    def append(self, record: dict) -> None:
        self.records.append(record)

    def finish(self, data: GeneratedData, config: GenerationConfig) -> None:
        pass


class FolderStore:
    """Keeps a run in a folder: `config.json`, the append-only `units.jsonl`, and the outputs."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.units_path = self.folder / "units.jsonl"

    def prepare(self, config: GenerationConfig) -> None:
        """Create the folder, or check that an existing run in it has the same generation settings."""
        self.folder.mkdir(parents=True, exist_ok=True)
        config_path = self.folder / "config.json"
        if config_path.exists():
            previous = json.loads(config_path.read_text(encoding="utf-8"))
            previous.pop("synsym_version", None)
            try:
                previous_fields = GenerationConfig.model_validate(previous).generation_fields()
            except ValueError:
                previous_fields = previous
            current = config.generation_fields()
            changed = sorted(key for key in set(current) | set(previous_fields) if current.get(key) != previous_fields.get(key))
            if changed and self.units_path.exists():
                details = ", ".join(f"{key}: {previous_fields.get(key)!r} -> {current.get(key)!r}" for key in changed)
                raise ConfigError(
                    f"run folder {self.folder} contains a run with other settings ({details}); resume it with the same "
                    "settings (`synsym generate --config " + str(config_path) + "`) or choose another --output folder"
                )
        payload = {"synsym_version": __version__, **config.model_dump()}
        temporary = config_path.with_name("config.json.tmp")
        temporary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, config_path)

    def load(self) -> list[dict]:
        """Read every unit record; a line cut short by a hard kill is ignored (that unit reruns)."""
        if not self.units_path.exists():
            return []
        records = []
        with open(self.units_path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    logger.warning("ignoring incomplete record on line %d of %s (the run was killed while writing it)", number, self.units_path)
        return records

    def append(self, record: dict) -> None:
        # A line written by a killed process may lack its newline; start on a fresh line.
        needs_newline = False
        if self.units_path.exists() and self.units_path.stat().st_size > 0:
            with open(self.units_path, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                needs_newline = handle.read(1) != b"\n"
        with open(self.units_path, "a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, data: GeneratedData, config: GenerationConfig) -> None:
        write_outputs(self.folder, data, config.model_dump(), __version__)


def unit_seed(seed: int, unit_id: str, attempt: int) -> int:
    """Return the rollout id (and sampling seed) of one attempt at one unit."""
    digest = hashlib.sha256(f"{seed}:{unit_id}:{attempt}".encode()).hexdigest()
    return int(digest[:12], 16)


def post_id(text: str) -> str:
    """Return the id of a post: a digest of its whitespace-normalised, lower-cased text."""
    return hashlib.sha1(normalize_text(text).lower().encode()).hexdigest()[:16]


# A post needs at least this many words to be prose. Small models under a JSON grammar
# sometimes return a fragment such as "{" or "My" as a post, and a weak judge may keep it.
MIN_POST_WORDS = 4


def malformed_reason(text: str) -> str | None:
    """Return why `text` is not a usable post (a fragment or leaked JSON), or None if it is one."""
    stripped = normalize_text(text)
    if stripped[:1] in ("{", "["):
        return "starts with JSON syntax"
    words = len(stripped.split())
    if words < MIN_POST_WORDS:
        return f"{words} word(s), fewer than {MIN_POST_WORDS}"
    return None


class Progress:
    """A per-stage progress bar with posts, kept, rejected, tokens and elapsed time."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.posts = 0
        self.kept = 0
        self.rejected = 0
        self.tokens = 0
        self.bar = None

    def start(self, stage: str, total: int) -> None:
        if self.enabled and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"{stage:<8}", unit="unit", dynamic_ncols=True)
            self.refresh()

    def refresh(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(posts=self.posts, kept=self.kept, rejected=self.rejected, tokens=self.tokens, refresh=False)

    def step(self) -> None:
        if self.bar is not None:
            self.refresh()
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Runner:
    """Runs the units of one generation and keeps their records."""

    def __init__(self, program: SynSymProgram, config: GenerationConfig, store, taxonomy: Taxonomy, lm, lm_name: str, is_local: bool, show_progress: bool):
        self.program = program
        self.config = config
        self.store = store
        self.taxonomy = taxonomy
        self.lm = lm
        self.lm_name = lm_name
        self.threads = 1 if is_local else config.threads
        self.backoff = 0.0 if is_local else 1.0
        self.progress = Progress(show_progress)
        self.history = store.load()
        self.records = {record["unit"]: record for record in self.history}
        self.failed_now: list[dict] = []

    def done(self, unit_id: str) -> dict | None:
        record = self.records.get(unit_id)
        return record if record is not None and record["status"] == "ok" else None

    def _attempt(self, unit: Unit) -> dict:
        started = time.perf_counter()
        calls = prompt_tokens = completion_tokens = 0
        error = None
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                with dspy.context(lm=self.lm, adapter=dspy.JSONAdapter()), track_usage() as tracker:
                    try:
                        output = unit.call(unit_seed(self.config.seed, unit.id, attempt))
                    finally:
                        for entries in tracker.usage_data.values():
                            for entry in entries:
                                calls += 1
                                prompt_tokens += int(entry.get("prompt_tokens") or 0)
                                completion_tokens += int(entry.get("completion_tokens") or 0)
                status = "ok"
                break
            except FATAL_LM_ERRORS as exc:
                raise LMSetupError(
                    "LM call failed with an error that retrying cannot fix "
                    f"({type(exc).__name__}): {str(exc).strip()}\n"
                    "Finished units are kept. Fix the LM settings (API key variable, --api-base, "
                    "model name) and rerun the same command."
                ) from exc
            except Exception as exc:  # noqa: BLE001 - one bad unit must not end the run
                error = f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("unit %s attempt %d/%d failed: %s", unit.id, attempt, self.config.max_attempts, error.splitlines()[0])
                output = None
                status = "failed"
                if attempt < self.config.max_attempts and self.backoff:
                    time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
        return {
            "unit": unit.id,
            "stage": unit.stage,
            "status": status,
            "output": output,
            "error": None if status == "ok" else error,
            "attempts": attempt,
            "calls": calls,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "seconds": round(time.perf_counter() - started, 3),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _accept(self, record: dict, on_record: Callable[[dict], None] | None) -> None:
        self.store.append(record)
        self.history.append(record)
        self.records[record["unit"]] = record
        self.progress.tokens += record["prompt_tokens"] + record["completion_tokens"]
        if record["status"] != "ok":
            self.failed_now.append(record)
        elif on_record is not None:
            on_record(record)
        self.progress.step()

    def run_stage(self, stage: str, units: list[Unit], on_record: Callable[[dict], None] | None = None) -> None:
        """Run the units of a stage that have no successful record yet."""
        pending = [unit for unit in units if self.done(unit.id) is None]
        if not pending:
            return
        logger.info("stage %s: %d units to run (%d already done)", stage, len(pending), len(units) - len(pending))
        self.progress.start(stage, len(pending))
        try:
            if self.threads == 1:
                for unit in pending:
                    self._accept(self._attempt(unit), on_record)
            else:
                executor = ThreadPoolExecutor(max_workers=self.threads)
                try:
                    # Each unit runs in a copy of the caller's context, so DSPy settings set by the
                    # caller (such as the trace that optimisers collect) reach the worker threads.
                    futures = [executor.submit(contextvars.copy_context().run, self._attempt, unit) for unit in pending]
                    for future in as_completed(futures):
                        self._accept(future.result(), on_record)
                finally:
                    executor.shutdown(wait=True, cancel_futures=True)
        finally:
            self.progress.close()


def _style_guides(config: GenerationConfig, taxonomy: Taxonomy) -> dict[str, str]:
    guides = {**taxonomy.styles, **config.style_guides}
    missing = [style for style in config.styles if style not in guides]
    if missing:
        raise ConfigError(
            f"style {missing[0]!r} has no description; known styles: {', '.join(guides) or 'none'}. "
            "Add one with style_guides in the config, e.g. {\"" + missing[0] + "\": \"short tweet, under 200 characters\"}"
        )
    return guides


def _select_symptoms(config: GenerationConfig, taxonomy: Taxonomy):
    if config.symptoms is None:
        return list(taxonomy.symptoms)
    unknown = [name for name in config.symptoms if name not in taxonomy.labels]
    if unknown:
        raise ConfigError(f"symptom {unknown[0]!r} is not in taxonomy {taxonomy.name!r}; known: {', '.join(taxonomy.labels)}")
    return [symptom for symptom in taxonomy.symptoms if symptom.name in config.symptoms]


def run_generation(
    program: SynSymProgram,
    config: GenerationConfig,
    store=None,
    *,
    taxonomy: Taxonomy | None = None,
    lm=None,
    lm_name: str | None = None,
    is_local: bool = False,
    show_progress: bool = True,
) -> GeneratedData:
    """Run (or resume) a generation and return the data set.

    Args:
        program: The program whose stage modules make the LM calls.
        config: The run's settings.
        store: Where unit records go: a `FolderStore` for resumable runs, `MemoryStore` otherwise.
        taxonomy: The taxonomy; loaded from `config.taxonomy` when None.
        lm: The `dspy.LM` to call; DSPy's configured LM when None.
        lm_name: The LM name written into rows; `lm.model` when None.
        is_local: True for an in-process model (one call at a time, no backoff).
        show_progress: Show progress bars on stderr.
    """
    store = store if store is not None else MemoryStore()
    taxonomy = taxonomy or load_taxonomy(config.taxonomy)
    lm = lm if lm is not None else dspy.settings.lm
    if lm is None:
        raise ConfigError("no LM given and none configured in DSPy; pass lm= or call dspy.configure(lm=...)")
    lm_name = lm_name or getattr(lm, "model", "unknown")
    symptoms = _select_symptoms(config, taxonomy)
    guides = _style_guides(config, taxonomy)
    store.prepare(config)
    runner = Runner(program, config, store, taxonomy, lm, lm_name, is_local, show_progress)
    started = time.perf_counter()

    # Stage 1: sub-concepts per symptom.
    if config.expansion:
        units = [
            Unit(f"expand:{symptom.name}", "expand",
                 lambda rollout, symptom=symptom: {"sub_concepts": [concept.model_dump() for concept in program.expander(symptom, config.sub_concepts_per_symptom, rollout)]})
            for symptom in symptoms
        ]
        runner.run_stage("expand", units)

    def sub_concepts_of(symptom) -> list[SubConcept | None]:
        if not config.expansion:
            # Without expansion every unit prompts with the bare symptom; distinct rollout ids give distinct posts.
            return [None] * config.sub_concepts_per_symptom
        record = runner.done(f"expand:{symptom.name}")
        if record is None:
            return []
        return [SubConcept.model_validate(item) for item in record["output"]["sub_concepts"]]

    # Stage 2: single-symptom expressions per (symptom, sub-concept, style).
    express_units = []
    for symptom in symptoms:
        for index, concept in enumerate(sub_concepts_of(symptom)):
            for style in config.styles:
                target = concept or SubConcept(name=symptom.name, description=symptom.definition)
                express_units.append(Unit(
                    f"express:{symptom.name}:{index}:{style}", "express",
                    lambda rollout, symptom=symptom, target=target, style=style: {
                        "posts": program.writer(symptom, target, style, guides[style], config.posts_per_unit, rollout)
                    },
                ))

    # Stage 3: multi-symptom combinations and compositions.
    combinations = _combinations(runner, program, config, taxonomy, symptoms) if config.composition else []
    compose_units = []
    for index, combination in enumerate(combinations):
        style = config.styles[index % len(config.styles)]
        members = [taxonomy.symptom(name) for name in combination]
        compose_units.append(Unit(
            f"compose:{index}:{'+'.join(combination)}:{style}", "compose",
            lambda rollout, members=members, style=style: {
                "posts": program.composer(members, style, guides[style], config.posts_per_unit, rollout)
            },
        ))

    def count_posts(record: dict) -> None:
        runner.progress.posts += len(record["output"]["posts"])

    runner.progress.posts = sum(len(record["output"]["posts"]) for record in runner.records.values() if record["status"] == "ok" and record["stage"] in ("express", "compose"))
    runner.run_stage("express", express_units, count_posts)
    runner.run_stage("compose", compose_units, count_posts)

    candidates, duplicates = _collect_posts(runner, config, symptoms, sub_concepts_of, express_units, compose_units, combinations)

    # Stage 4: judge every distinct post.
    if config.judge:
        def judge_unit(post: dict) -> Unit:
            members = [taxonomy.symptom(name) for name in post["labels"]]
            return Unit(f"judge:{post['id']}", "judge",
                        lambda rollout: {"scores": [score.model_dump() for score in program.judge(post["text"], members, rollout)]})

        def count_verdict(record: dict) -> None:
            scores = record["output"]["scores"]
            if min((score["score"] for score in scores), default=0) >= config.threshold:
                runner.progress.kept += 1
            else:
                runner.progress.rejected += 1

        usable = [post for post in candidates if malformed_reason(post["text"]) is None]
        runner.run_stage("judge", [judge_unit(post) for post in usable], count_verdict)

    data = _build_data(runner, config, taxonomy, candidates, duplicates, program_fingerprint(program), time.perf_counter() - started)
    store.finish(data, config)
    return data


def _combinations(runner: Runner, program: SynSymProgram, config: GenerationConfig, taxonomy: Taxonomy, symptoms) -> list[list[str]]:
    names = [symptom.name for symptom in symptoms]
    if len(names) < 2 or config.combinations == 0:
        return []
    if config.combination_source in ("prior", "uniform"):
        return sample_combinations(taxonomy, config.combinations, config.seed, symptoms=names, uniform=config.combination_source == "uniform")

    guidance = describe_prior(taxonomy)

    def propose(rollout: int) -> dict:
        proposed = program.proposer(taxonomy, guidance, config.combinations, rollout)
        kept, dropped = clean_proposed(taxonomy, proposed, names)
        return {"combinations": kept, "dropped": dropped}

    runner.run_stage("propose", [Unit("propose:combinations", "propose", propose)])
    record = runner.done("propose:combinations")
    kept = record["output"]["combinations"] if record else []
    if len(kept) < config.combinations:
        # The LM proposed too few valid combinations; the rest come from the prior, so the
        # run still has the requested number. usage.json counts how many came from each.
        extra = sample_combinations(taxonomy, config.combinations * 4, config.seed, symptoms=names)
        for combination in extra:
            if len(kept) >= config.combinations:
                break
            if combination not in kept:
                kept.append(combination)
    return kept[: config.combinations]


def _collect_posts(runner, config, symptoms, sub_concepts_of, express_units, compose_units, combinations):
    """Gather posts in unit order, drop exact duplicates, and return (candidates, duplicates removed)."""
    candidates: list[dict] = []
    seen: set[str] = set()
    duplicates = 0
    for unit in express_units:
        record = runner.done(unit.id)
        if record is None:
            continue
        _, symptom_name, index, style = unit.id.split(":", 3)
        concept = None
        if config.expansion:
            concepts = sub_concepts_of(next(symptom for symptom in symptoms if symptom.name == symptom_name))
            concept = concepts[int(index)].name
        for text in record["output"]["posts"]:
            identifier = post_id(text)
            if identifier in seen:
                duplicates += 1
                continue
            seen.add(identifier)
            candidates.append({"id": identifier, "text": text, "labels": [symptom_name], "style": style, "kind": "single",
                               "target_symptom": symptom_name, "sub_concept": concept, "unit_id": unit.id})
    for unit, combination in zip(compose_units, combinations):
        record = runner.done(unit.id)
        if record is None:
            continue
        style = unit.id.rsplit(":", 1)[1]
        for text in record["output"]["posts"]:
            identifier = post_id(text)
            if identifier in seen:
                duplicates += 1
                continue
            seen.add(identifier)
            candidates.append({"id": identifier, "text": text, "labels": list(combination), "style": style, "kind": "multi",
                               "target_symptom": None, "sub_concept": None, "unit_id": unit.id})
    return candidates, duplicates


def _build_data(runner: Runner, config: GenerationConfig, taxonomy: Taxonomy, candidates: list[dict], duplicates: int, fingerprint: str, seconds: float) -> GeneratedData:
    rows: list[dict] = []
    rejects: list[dict] = []
    for post in candidates:
        row = {**post, "judge_scores": [], "min_judge_score": None, "lm": runner.lm_name, "program_fingerprint": fingerprint, "seed": config.seed}
        problem = malformed_reason(post["text"])
        if problem is not None:
            rejects.append({**row, "reject_reason": f"malformed: {problem}"})
            continue
        if config.judge:
            record = runner.records.get(f"judge:{post['id']}")
            if record is None or record["status"] != "ok":
                reason = record["error"] if record else "not judged"
                rejects.append({**row, "reject_reason": f"not judged: {reason}"})
                continue
            scores = [SymptomScore.model_validate(score) for score in record["output"]["scores"]]
            row["judge_scores"] = [score.model_dump() for score in scores]
            row["min_judge_score"] = min(score.score for score in scores)
            weak = [f"{score.symptom}={score.score}" for score in scores if score.score < config.threshold]
            if weak:
                rejects.append({**row, "reject_reason": f"below threshold {config.threshold}: {', '.join(weak)}"})
                continue
        rows.append(row)

    usage = _usage(runner, config, len(candidates), duplicates, seconds)
    usage.update({"lm": runner.lm_name, "program_fingerprint": fingerprint, "posts_kept": len(rows), "posts_rejected": len(rejects)})
    return GeneratedData(rows=rows, rejects=rejects, usage=usage, labels=taxonomy.labels)


def _usage(runner: Runner, config: GenerationConfig, candidates: int, duplicates: int, seconds: float) -> dict:
    stages: dict[str, dict] = {}
    for record in runner.history:
        stage = stages.setdefault(record["stage"], {"units": 0, "failed_attempts": 0, "calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0})
        stage["units"] += record["status"] == "ok"
        stage["failed_attempts"] += record["attempts"] - (record["status"] == "ok")
        stage["calls"] += record["calls"]
        stage["prompt_tokens"] += record["prompt_tokens"]
        stage["completion_tokens"] += record["completion_tokens"]
        stage["seconds"] = round(stage["seconds"] + record["seconds"], 3)
    failed = [record for record in runner.records.values() if record["status"] != "ok"]
    totals = {key: sum(stage[key] for stage in stages.values()) for key in ("calls", "prompt_tokens", "completion_tokens")}
    return {
        "stages": stages,
        **totals,
        "lm_seconds": round(sum(stage["seconds"] for stage in stages.values()), 3),
        "wall_seconds_this_session": round(seconds, 3),
        "posts_generated": candidates + duplicates,
        "duplicates_removed": duplicates,
        "failed_units": len(failed),
        "failures": [{"unit": record["unit"], "error": record["error"], "attempts": record["attempts"]} for record in failed],
    }
