"""Typed DSPy signatures for the four SynSym stages (and the optional combination proposer).

The docstrings are the starting instructions that prompt optimisers rewrite; the field
types are Pydantic models, so DSPy's adapters parse and validate every output and no
stage parses free text by hand.
"""

from __future__ import annotations

from typing import Literal

import dspy
from pydantic import BaseModel, Field


class SubConcept(BaseModel):
    """One facet of a symptom, concrete enough to write a one-sentence post about."""

    name: str = Field(description="a short noun phrase of 2 to 6 words")
    description: str = Field(description="one sentence on how this facet shows in a person's daily life")


class SymptomBrief(BaseModel):
    """A symptom as shown to the LM: label name and definition."""

    name: str
    definition: str


class SymptomScore(BaseModel):
    """The judge's rating of one labelled symptom in one post."""

    symptom: str = Field(description="the symptom's label name, exactly as given")
    score: Literal[0, 1, 2, 3, 4, 5] = Field(
        description="0 absent, 1 barely hinted, 2 ambiguous, 3 present, 4 clear, 5 unmistakable"
    )
    reason: str = Field(description="one short line, at most 15 words, that justifies the score")


class ExpandSymptom(dspy.Signature):
    """Break a depressive symptom into distinct sub-concepts.

    Each sub-concept is a different, concrete way the symptom shows up in a person's
    thoughts, feelings, body or behaviour, specific enough that someone could describe it
    in one sentence about their own life. Cover different facets and severities; do not
    repeat a facet in other words. Every sub-concept is a form of this symptom itself:
    never another symptom from the same disorder and never a diagnosis (such as
    depression or anxiety).
    """

    symptom: str = dspy.InputField(desc="the symptom's label name")
    definition: str = dspy.InputField(desc="a short clinical definition of the symptom")
    count: int = dspy.InputField(desc="how many sub-concepts to list")
    sub_concepts: list[SubConcept] = dspy.OutputField(desc="exactly `count` distinct sub-concepts")


class WriteExpressions(dspy.Signature):
    """Write short social-media posts in which a person describes their own experience of one sub-concept of a symptom.

    Rules for every post: first person ("I", "my"); one or two sentences, at most 35 words; literal wording
    with no metaphors or similes; it expresses this symptom and no other symptom; it
    follows the style guide; each post differs from the others in situation and wording.
    Do not name the symptom's label, ask for advice, or use clinical jargon unless the style asks for it.
    """

    symptom: str = dspy.InputField(desc="the symptom's label name")
    definition: str = dspy.InputField(desc="a short clinical definition of the symptom")
    sub_concept: str = dspy.InputField(desc="the facet of the symptom to express, with its description")
    style: str = dspy.InputField(desc="the style's name and its guide")
    count: int = dspy.InputField(desc="how many posts to write")
    posts: list[str] = dspy.OutputField(desc="exactly `count` posts, each one or two sentences")


class ComposePosts(dspy.Signature):
    """Write social-media posts in which one person describes one situation that shows every listed symptom.

    Rules for every post: first person; two to four sentences, at most 70 words; every listed symptom is
    clearly present and blended into the same situation rather than listed one by one;
    no symptom outside the list; literal wording with no metaphors; it follows the style
    guide; posts differ from each other in situation and wording. Do not name the
    symptoms or their labels, do not list them, and do not ask for advice.
    """

    symptoms: list[SymptomBrief] = dspy.InputField(desc="the symptoms that every post must show")
    style: str = dspy.InputField(desc="the style's name and its guide")
    count: int = dspy.InputField(desc="how many posts to write")
    posts: list[str] = dspy.OutputField(desc="exactly `count` posts")


class JudgePost(dspy.Signature):
    """Rate how clearly a social-media post expresses each listed symptom, as an expert annotator would.

    Score each listed symptom from 0 to 5: 0 absent, 1 barely hinted, 2 ambiguous,
    3 present, 4 clear, 5 unmistakable. Judge only what the post says, not what it might
    imply. Give one score per listed symptom, in the order given, each with a one-line reason.
    """

    post: str = dspy.InputField(desc="the post to rate")
    symptoms: list[SymptomBrief] = dspy.InputField(desc="the symptoms the post is labelled with")
    scores: list[SymptomScore] = dspy.OutputField(desc="one score per listed symptom, in the same order")


class ProposeCombinations(dspy.Signature):
    """Propose combinations of depressive symptoms that commonly occur together in one person.

    Each combination lists 2 to 5 symptom label names, exactly as given, that are
    clinically plausible together. Follow the guidance on which symptoms are central,
    which cluster together and which are rare.
    """

    symptoms: list[SymptomBrief] = dspy.InputField(desc="the symptoms to choose from")
    guidance: str = dspy.InputField(desc="clinical co-occurrence guidance to follow")
    count: int = dspy.InputField(desc="how many combinations to propose")
    combinations: list[list[str]] = dspy.OutputField(desc="exactly `count` combinations of label names")
