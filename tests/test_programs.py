import json

import pytest

from synsym.modules import SynSymProgram, program_fingerprint
from synsym.programs import ProgramLoadError, load_program, save_program


def test_save_and_load_round_trip(tmp_path):
    program = SynSymProgram()
    program.judge.predict.signature = program.judge.predict.signature.with_instructions("Rate strictly.")
    path = save_program(program, tmp_path / "program.json")
    loaded = load_program(path)
    assert loaded.judge.predict.signature.instructions == "Rate strictly."
    assert program_fingerprint(loaded) == program_fingerprint(program)


def test_saved_state_is_json_without_lm(tmp_path):
    path = save_program(SynSymProgram(), tmp_path / "program.json")
    payload = json.loads(path.read_text())
    assert payload["synsym_program_format"] == 1
    assert "writer.predict" in payload["signatures"]
    assert all(state.get("lm") is None for state in payload["state"].values())


def test_pickle_suffix_is_rejected(tmp_path):
    with pytest.raises(ProgramLoadError, match=r"must end in \.json"):
        save_program(SynSymProgram(), tmp_path / "program.pkl")


def test_other_signatures_are_rejected(tmp_path):
    path = save_program(SynSymProgram(), tmp_path / "program.json")
    payload = json.loads(path.read_text())
    payload["signatures"]["judge.predict"]["outputs"] = ["verdict"]
    path.write_text(json.dumps(payload))
    with pytest.raises(ProgramLoadError, match=r"judge.predict: fields"):
        load_program(path)


def test_foreign_json_is_rejected(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"predict": {}}))
    with pytest.raises(ProgramLoadError, match="not a synsym program file"):
        load_program(path)
