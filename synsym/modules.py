"""DSPy modules for the SynSym stages, and the program that composes them.

Each stage module wraps one `dspy.Predict` over a typed signature and cleans its output
(strips, drops empty and repeated items, trims to the requested count). `SynSymProgram`
holds the stage modules so that the whole method is saved, loaded and optimised as one
unit; its `forward` runs the full pipeline in memory through the same runner that
`synsym generate` uses with a run folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING

import dspy

from synsym.signatures import (
    ComposePosts,
    ExpandSymptom,
    JudgePost,
    ProposeCombinations,
    SubConcept,
    SymptomBrief,
    SymptomScore,
    WriteExpressions,
)

if TYPE_CHECKING:
    from synsym.config import GenerationConfig
    from synsym.dataset import GeneratedData
    from synsym.taxonomy import Symptom, Taxonomy

logger = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Collapse white space and strip; the form used to detect exact duplicate posts."""
    return _SPACE.sub(" ", text).strip()


def _unique_texts(texts: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    kept = []
    for text in texts:
        cleaned = normalize_text(str(text)).strip('"').strip()
        key = cleaned.lower()
        if not cleaned or key in seen:
            continue
        seen.add(key)
        kept.append(cleaned)
    return kept[:limit]


class EmptyOutputError(ValueError):
    """An LM answer that parsed but left nothing usable (no posts or no sub-concepts)."""


def _require_items(items: list, what: str) -> list:
    # An empty answer counts as a failed attempt, so the runner retries with a new rollout id.
    if not items:
        raise EmptyOutputError(f"the LM returned no usable {what}")
    return items


def _call_config(rollout_id: int | None) -> dict:
    # rollout_id keeps DSPy's cache from returning one cached answer for identical
    # prompts; the same value seeds the local sampler so that a rerun is reproducible.
    if rollout_id is None:
        return {}
    return {"rollout_id": rollout_id, "seed": rollout_id % (2**31)}


def style_text(style: str, guide: str) -> str:
    """Format a style for the prompt: its name and its guide."""
    return f"{style}: {guide}" if guide else style


class SymptomExpander(dspy.Module):
    """Expand a symptom into sub-concepts (stage 1)."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict(ExpandSymptom)

    def forward(self, symptom: Symptom, count: int, rollout_id: int | None = None) -> list[SubConcept]:
        prediction = self.predict(symptom=symptom.name, definition=symptom.definition, count=count, config=_call_config(rollout_id))
        seen: set[str] = set()
        concepts = []
        for concept in prediction.sub_concepts:
            name = normalize_text(concept.name)
            if not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            concepts.append(SubConcept(name=name, description=normalize_text(concept.description)))
        return _require_items(concepts[:count], "sub-concepts")


class ExpressionWriter(dspy.Module):
    """Write single-symptom posts for one (symptom, sub-concept, style) (stage 2)."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict(WriteExpressions)

    def forward(self, symptom: Symptom, sub_concept: SubConcept, style: str, style_guide: str, count: int, rollout_id: int | None = None) -> list[str]:
        prediction = self.predict(
            symptom=symptom.name,
            definition=symptom.definition,
            sub_concept=f"{sub_concept.name}: {sub_concept.description}" if sub_concept.description else sub_concept.name,
            style=style_text(style, style_guide),
            count=count,
            config=_call_config(rollout_id),
        )
        return _require_items(_unique_texts(prediction.posts, count), "posts")


class PostComposer(dspy.Module):
    """Write multi-symptom posts that blend every symptom of a combination (stage 3)."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict(ComposePosts)

    def forward(self, symptoms: list[Symptom], style: str, style_guide: str, count: int, rollout_id: int | None = None) -> list[str]:
        briefs = [SymptomBrief(name=symptom.name, definition=symptom.definition) for symptom in symptoms]
        prediction = self.predict(symptoms=briefs, style=style_text(style, style_guide), count=count, config=_call_config(rollout_id))
        return _require_items(_unique_texts(prediction.posts, count), "posts")


class PostJudge(dspy.Module):
    """Score how clearly a post shows each labelled symptom, 0 to 5 (stage 4)."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict(JudgePost)

    def forward(self, post: str, symptoms: list[Symptom], rollout_id: int | None = None) -> list[SymptomScore]:
        briefs = [SymptomBrief(name=symptom.name, definition=symptom.definition) for symptom in symptoms]
        prediction = self.predict(post=post, symptoms=briefs, config=_call_config(rollout_id))
        return align_scores(prediction.scores, [symptom.name for symptom in symptoms])


def align_scores(scores: list[SymptomScore], labels: list[str]) -> list[SymptomScore]:
    """Return one score per label, in label order.

    Scores are matched by label name (case and separators ignored). When names do not
    match but the judge returned one score per label, they are matched by position, as
    the signature asks for the given order. A label left without a score gets 0, so an
    incomplete judgement can only reject a post, never keep one.
    """

    def key(name: str) -> str:
        return re.sub(r"[^a-z]", "", name.lower())

    by_name = {key(score.symptom): score for score in scores}
    aligned = []
    for index, label in enumerate(labels):
        found = by_name.get(key(label))
        if found is None and len(scores) == len(labels):
            found = scores[index]
        if found is None:
            aligned.append(SymptomScore(symptom=label, score=0, reason="the judge returned no score for this symptom"))
        else:
            aligned.append(SymptomScore(symptom=label, score=found.score, reason=normalize_text(found.reason)))
    return aligned


class CombinationProposer(dspy.Module):
    """Propose clinically plausible symptom combinations (optional part of stage 3)."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict(ProposeCombinations)

    def forward(self, taxonomy: Taxonomy, guidance: str, count: int, rollout_id: int | None = None) -> list[list[str]]:
        briefs = [SymptomBrief(name=symptom.name, definition=symptom.definition) for symptom in taxonomy.symptoms]
        prediction = self.predict(symptoms=briefs, guidance=guidance, count=count, config=_call_config(rollout_id))
        return [list(combination) for combination in prediction.combinations]


class SynSymProgram(dspy.Module):
    """The SynSym method as one DSPy program: expansion, expression, composition, judging.

    Example:
        >>> program = SynSymProgram()
        >>> sorted(name for name, _ in program.named_predictors())
        ['composer.predict', 'expander.predict', 'judge.predict', 'proposer.predict', 'writer.predict']
    """

    def __init__(self):
        super().__init__()
        self.expander = SymptomExpander()
        self.writer = ExpressionWriter()
        self.composer = PostComposer()
        self.judge = PostJudge()
        self.proposer = CombinationProposer()

    def forward(self, config: GenerationConfig, taxonomy: Taxonomy | None = None) -> GeneratedData:
        """Generate a data set in memory with the LM configured in DSPy's settings."""
        from synsym.runner import MemoryStore, run_generation

        return run_generation(self, config, store=MemoryStore(), taxonomy=taxonomy, lm=dspy.settings.lm, show_progress=False)


def program_fingerprint(program: SynSymProgram) -> str:
    """Return a short digest of the program's signatures, instructions and demos."""
    state = program.dump_state()
    signatures = {name: sorted(predictor.signature.fields) for name, predictor in program.named_predictors()}
    payload = json.dumps({"state": state, "signatures": signatures}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
