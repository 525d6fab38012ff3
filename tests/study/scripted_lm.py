"""A DummyLM that writes its answers from the prompt, goes through DSPy's cache, and counts real calls."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import dspy
from dspy.clients.engines.dummy_engine import DummyEngine
from dspy.utils import DummyLM

from synsym.lm import LMHandle

SLEEP = "Sleep_disturbance"
FATIGUE = "Decreased_energy_tiredness_fatigue"
PESSIMISM = "Pessimism"
APPETITE = "Weight_and_appetite_change"
SYMPTOMS = [SLEEP, FATIGUE, PESSIMISM, APPETITE]
TINY_RECIPE = Path(__file__).resolve().parents[2] / "eval" / "studies" / "tiny.toml"

# Phrasings written for these tests; the gold set uses other wording for the same symptoms.
TRAIN_PHRASES = {
    SLEEP: ["i lie awake every night and cannot fall asleep", "i wake up at 3am and stay awake", "sleep never comes until morning"],
    FATIGUE: ["i am exhausted with no energy at all", "my body feels heavy and drained", "even a short walk wears me out"],
    PESSIMISM: ["nothing will ever get better for me", "the future looks hopeless", "i expect things to only get worse"],
    APPETITE: ["i barely eat and lost weight", "food has no appeal so i skip meals", "i eat far more than usual lately"],
}
GOLD_PHRASES = {
    SLEEP: ["awake all night again, sleep will not come", "i cannot sleep and wake up at 3am"],
    FATIGUE: ["no energy today, exhausted and tired", "i feel drained and worn out all the time"],
    PESSIMISM: ["things will never get better, the future is hopeless", "i expect the worst, nothing good ahead"],
    APPETITE: ["i have no appetite and skip every meal", "i lost weight because i barely eat"],
}

_FIELD = re.compile(r"\[\[ ## (\w+) ## \]\]\n(.*?)(?=\n\n\[\[ ## |\n\nRespond with|\Z)", re.DOTALL)


def prompt_fields(prompt: str) -> dict[str, str]:
    """Return the input fields of a JSONAdapter user message."""
    return {name: value.strip() for name, value in _FIELD.findall(prompt)}


class ScriptedEngine(DummyEngine):
    def _complete_messages(self, messages):
        owner = self.owner
        owner.calls += 1
        if owner.interrupt_after is not None and owner.calls > owner.interrupt_after:
            raise KeyboardInterrupt
        prompt = messages[-1]["content"]
        owner.prompts.append(prompt)
        owner.answers = iter([owner.answer(prompt_fields(prompt))])
        return super()._complete_messages(messages)


class ScriptedLM(DummyLM):
    """Answers each stage from its prompt; `calls` counts calls that reached it (cache hits excluded).

    Judge scores cycle through 2, 3, 4 and 5 so that thresholds keep different shares of posts.
    With `interrupt_after`, the call after that many raises KeyboardInterrupt, like Ctrl-C.
    """

    def __init__(self, interrupt_after: int | None = None):
        super().__init__([], adapter=dspy.JSONAdapter())
        self._engine_spec = ScriptedEngine(self)
        self._cache_responses = True
        self.kwargs.update(temperature=0.9, max_tokens=768)
        self.calls = 0
        self.posts_written = 0
        self.interrupt_after = interrupt_after
        self.prompts: list[str] = []

    def copy(self, **kwargs):
        # A copy (another temperature or max_tokens) writes and counts its calls through this LM.
        copied = super().copy(**kwargs)
        copied._engine_spec = ScriptedEngine(self)
        return copied

    def _posts(self, symptoms: list[str], count: int) -> list[str]:
        posts = []
        for _ in range(count):
            self.posts_written += 1
            number = self.posts_written
            parts = [TRAIN_PHRASES[name][number % 3] for name in symptoms if name in TRAIN_PHRASES]
            posts.append(f"{' and '.join(parts) or 'a post'}, note {number}")
        return posts

    def answer(self, fields: dict[str, str]) -> dict:
        if "post" in fields:
            names = [item["name"] for item in json.loads(fields["symptoms"])]
            score = 2 + int(re.search(r"note (\d+)", fields["post"]).group(1)) % 4
            return {"scores": [{"symptom": name, "score": score, "reason": "scripted"} for name in names]}
        if "guidance" in fields:
            return {"combinations": [[SLEEP, FATIGUE], [PESSIMISM, APPETITE]][: int(fields["count"])]}
        if "sub_concept" in fields:
            return {"posts": self._posts([fields["symptom"]], int(fields["count"]))}
        if "symptoms" in fields:
            names = [item["name"] for item in json.loads(fields["symptoms"])]
            return {"posts": self._posts(names, int(fields["count"]))}
        count = int(fields["count"])
        return {"sub_concepts": [{"name": f"facet {index} of {fields['symptom']}", "description": "how it shows"} for index in range(count)]}


def scripted_handle(lm: ScriptedLM, spec: str) -> LMHandle:
    return LMHandle(lm=lm, spec=spec, name="scripted", fingerprint="scripted", is_local=True)


def write_gold_csv(path) -> str:
    """Write a small generic-format gold set (text, labels) and return its path."""
    lines = ["text,labels"]
    for label, phrases in GOLD_PHRASES.items():
        lines += [f'"{phrase}",{label}' for phrase in phrases]
    lines.append('"i cannot sleep and have no energy at all",Sleep_disturbance;Decreased_energy_tiredness_fatigue')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def tiny_recipe_settings(folder: Path) -> dict:
    """The tiny recipe's settings, scored on a small gold file in `folder` instead of the reference set."""
    settings = tomllib.loads(TINY_RECIPE.read_text(encoding="utf-8"))
    settings["gold"] = [{"name": "gold", "path": write_gold_csv(folder / "gold.csv")}]
    settings["evaluation"]["bootstrap"] = 50
    settings["output"] = str(folder / "study")
    return settings
