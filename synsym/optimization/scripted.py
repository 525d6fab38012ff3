"""A scripted offline LM (`lm.model = "dummy"`) for tests and dry runs of an optimisation.

It reads the output fields that DSPy's adapter requests and the input values of the last
message. It completes every SynSym signature and every prompt-proposal signature with
deterministic text: sub-concepts named after the symptom, posts built from words of the
symptom's definition, judge scores of 4 (2 for about one post in five, so some posts are
rejected), and numbered instructions. The text depends on the prompt's instructions, so
candidate programs with other instructions produce other data sets and other scores.
No model runs; nothing it writes is meant to read like a real post.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from dspy.clients.engines.dummy_engine import DummyEngine
from dspy.lm15 import Message, Response, TextPart, Usage
from dspy.utils.dummies import DummyLM

logger = logging.getLogger(__name__)

_OUTPUT_FIELDS = re.compile(r"Your output fields are:\n(.*?)(?:\nAll interactions|\Z)", re.S)
_FIELD_NAME = re.compile(r"^\d+\. `(\w+)` \(([^)]*)\)", re.M)
_INPUT_VALUE = re.compile(r"\[\[ ## (\w+) ## \]\]\n(.*?)(?=\n\n\[\[ ## |\n\nRespond with|\Z)", re.S)
_WORD = re.compile(r"[a-z]{4,}")
_STOP_WORDS = {"that", "with", "from", "than", "more", "most", "into", "over", "such", "this", "they", "their", "which", "about", "stand", "people"}


def _number(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8], 16)


def _parse_json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _post(symptoms: list[dict], instructions: str, salt: str) -> str:
    words = []
    for symptom in symptoms:
        words.extend(word for word in _WORD.findall(symptom.get("definition", "").lower()) if word not in _STOP_WORDS)
    if not words:
        words = ["tired", "today"]
    size = 3 + _number(instructions) % 5
    chosen = [words[_number(salt, str(index)) % len(words)] for index in range(size)]
    return f"Lately I notice {' '.join(chosen)} in my days ({_number(salt) % 1000})."


class _ScriptedEngine(DummyEngine):
    def _complete_messages(self, messages):
        system = next((message["content"] for message in messages if message["role"] == "system"), "")
        # Demos arrive as extra user/assistant turns, so their count changes the output as instructions do.
        text = self.owner.answer(system, messages[-1]["content"], context=str(len(messages)))
        return Response(id=None, model="dummy", message=Message.assistant([TextPart(text)]), finish_reason="stop",
                        usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0))


class ScriptedLM(DummyLM):
    """An offline LM that answers any DSPy signature from its prompt (see the module docstring).

    Example:
        >>> import dspy
        >>> lm = ScriptedLM()
        >>> with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        ...     dspy.Predict("question -> proposed_instruction")(question="?").proposed_instruction[:5]
        'Write'
    """

    def __init__(self):
        super().__init__([])
        self.model = "dummy"
        self._engine_spec = _ScriptedEngine(self)
        self.requests = 0

    def copy(self, **kwargs):
        copied = super().copy(**kwargs)
        copied._engine_spec = _ScriptedEngine(copied)
        return copied

    def answer(self, system: str, message: str, context: str = "") -> str:
        """Return the completion text for one request; `context` is mixed into the varying parts."""
        self.requests += 1
        found = _OUTPUT_FIELDS.search(system)
        if found is None:
            # A raw prompt without a DSPy signature, such as GEPA's reflection prompt.
            return f"```\n{self._instruction(message)}\n```"
        fields = _FIELD_NAME.findall(found.group(1))
        inputs = {name: value.strip() for name, value in _INPUT_VALUE.findall(message)}
        instructions = system.split("your objective is:", 1)[-1] + context
        values = {name: self._value(name, kind, inputs, instructions) for name, kind in fields}
        if "[[ ## completed ## ]]" in system:
            parts = [f"[[ ## {name} ## ]]\n{value if isinstance(value, str) else json.dumps(value)}" for name, value in values.items()]
            return "\n\n".join(parts) + "\n\n[[ ## completed ## ]]"
        return json.dumps(values)

    def _instruction(self, salt: str) -> str:
        return f"Write plain first-person posts that name concrete, everyday details (variant {_number(salt) % 97})."

    def _value(self, name: str, kind: str, inputs: dict[str, str], instructions: str) -> Any:
        count = int(inputs["count"]) if inputs.get("count", "").isdigit() else 2
        salt = json.dumps(inputs, sort_keys=True)
        if name == "sub_concepts":
            symptom = inputs.get("symptom", "symptom")
            return [{"name": f"facet {index} of {symptom}", "description": f"how facet {index} of {symptom} shows"} for index in range(count)]
        if name == "posts":
            if "symptoms" in inputs:
                symptoms = _parse_json(inputs["symptoms"])
            else:
                symptoms = [{"name": inputs.get("symptom", ""), "definition": inputs.get("definition", "")}]
            symptoms = symptoms if isinstance(symptoms, list) else []
            return [_post(symptoms, instructions, f"{salt}:{index}") for index in range(count)]
        if name == "scores":
            symptoms = _parse_json(inputs.get("symptoms", "[]"))
            post = inputs.get("post", "")
            weak = _number(instructions, post) % 5 == 0
            return [{"symptom": item.get("name", ""), "score": 2 if weak else 4,
                     "reason": "scripted: few specific details" if weak else "scripted: clearly present"}
                    for item in (symptoms if isinstance(symptoms, list) else [])]
        if name == "combinations":
            symptoms = _parse_json(inputs.get("symptoms", "[]"))
            names = [item.get("name", "") for item in symptoms] if isinstance(symptoms, list) else []
            pairs = [[names[index], names[(index + 1) % len(names)]] for index in range(len(names))] if len(names) > 1 else []
            return pairs[:count]
        if "instruction" in name:
            return self._instruction(salt + instructions)
        if kind.startswith("list"):
            return []
        if kind == "int":
            return 1
        if kind == "bool":
            return True
        return f"Scripted {name.replace('_', ' ')} ({_number(salt) % 1000})."
