"""Saving and loading program states as JSON (never pickles).

A program file holds the state of every predictor (instructions and demos) and the
field names of the signatures it was made for. Loading checks those names against the
current `SynSymProgram`, so a state made for other signatures fails with a clear error
instead of running with mismatched prompts. The state has no LM in it, so the same file
runs on any `--lm`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from synsym.modules import SynSymProgram

logger = logging.getLogger(__name__)

PROGRAM_FORMAT = 1


class ProgramLoadError(ValueError):
    """A program file that cannot be loaded into the current program."""


def signature_layout(program: SynSymProgram) -> dict[str, dict[str, list[str]]]:
    """Return, per predictor, its input and output field names."""
    return {
        name: {"inputs": list(predictor.signature.input_fields), "outputs": list(predictor.signature.output_fields)}
        for name, predictor in program.named_predictors()
    }


def save_program(program: SynSymProgram, path: str | Path) -> Path:
    """Write the program's state to a JSON file and return its path."""
    path = Path(path)
    if path.suffix != ".json":
        raise ProgramLoadError(f"program path {path} must end in .json (program states are saved as JSON, not pickles)")
    state = program.dump_state()
    for predictor_state in state.values():
        # An LM belongs to the run, not to the program: the same state runs on any --lm.
        if isinstance(predictor_state, dict) and "lm" in predictor_state:
            predictor_state["lm"] = None
    payload = {"synsym_program_format": PROGRAM_FORMAT, "signatures": signature_layout(program), "state": state}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_program(path: str | Path) -> SynSymProgram:
    """Build a `SynSymProgram` and load a saved state into it.

    Raises:
        ProgramLoadError: the file is missing, is not a synsym program file, or was made
            for signatures with other fields.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProgramLoadError(f"program file {path} not found") from None
    except json.JSONDecodeError as error:
        raise ProgramLoadError(f"program file {path} is not valid JSON: {error}") from None
    if not isinstance(payload, dict) or "synsym_program_format" not in payload:
        raise ProgramLoadError(f"{path} is not a synsym program file (no synsym_program_format key); save programs with synsym.programs.save_program")
    if payload["synsym_program_format"] != PROGRAM_FORMAT:
        raise ProgramLoadError(f"program file {path} has format {payload['synsym_program_format']}, this synsym reads format {PROGRAM_FORMAT}")

    program = SynSymProgram()
    expected = signature_layout(program)
    found = payload.get("signatures", {})
    problems = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            problems.append(f"{name}: missing from the file")
        elif name not in expected:
            problems.append(f"{name}: not a predictor of this program")
        elif found[name] != expected[name]:
            problems.append(f"{name}: fields {found[name]} differ from {expected[name]}")
    if problems:
        raise ProgramLoadError(
            f"program file {path} was made for other signatures ({'; '.join(problems)}); "
            "re-run the optimisation with this synsym version or use the built-in prompts"
        )
    program.load_state(payload["state"])
    return program
