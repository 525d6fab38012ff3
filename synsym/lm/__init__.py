"""Language-model backends: the embedded local model, any GGUF file, or a LiteLLM model string.

`--lm local` runs the embedded Qwen2.5-Coder-1.5B-Instruct in process; `--lm local:NAME`
picks another known local model and `--lm local:PATH.gguf` any GGUF file. Every other
value is a LiteLLM model string handed to `dspy.LM` (`openai/gpt-4o`,
`ollama_chat/llama3.1`, `hosted_vllm/...` with an API base). API keys are read by LiteLLM
from environment variables only; synsym never stores, logs or writes them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import dspy

from synsym.lm.models import DEFAULT_LOCAL_MODEL, LOCAL_MODELS, ModelFileError, LocalModel, resolve_model_path, sha256_file

logger = logging.getLogger(__name__)


class LMSpecError(ValueError):
    """An `--lm` value that cannot be turned into a language model."""


@dataclass
class LMHandle:
    """A configured DSPy LM plus what synsym records about it.

    Attributes:
        lm: The `dspy.LM` to use.
        spec: The `--lm` value as given.
        name: A stable model name for outputs (no secrets, no machine paths for known models).
        fingerprint: Identifies the weights: the file's SHA-256 for local models, the model
            string for remote ones.
        is_local: True when the model runs in this process (calls are serialised).
        engine: The in-process engine, when local; its `stats` count time spent in the model.
    """

    lm: dspy.LM
    spec: str
    name: str
    fingerprint: str
    is_local: bool
    engine: object | None = None
    settings: dict = field(default_factory=dict)


def _local_handle(spec: str, model: LocalModel | None, path: Path, temperature: float, max_tokens: int, n_ctx: int, n_threads: int | None, cache: bool, grammar: str) -> LMHandle:
    from synsym.lm.llama_engine import LlamaCppEngine

    if model is not None:
        path = resolve_model_path(model)
        name = model.name
        fingerprint = model.sha256 or sha256_file(path)
    else:
        name = path.stem
        fingerprint = sha256_file(path)
    if grammar == "auto":
        grammar = model.grammar if model is not None else "off"
    engine = LlamaCppEngine(str(path), n_ctx=n_ctx, n_threads=n_threads, model_name=name, constrain=grammar)
    lm = dspy.LM(f"local/{name}", engine=engine, temperature=temperature, max_tokens=max_tokens, cache=cache)
    settings = {"temperature": temperature, "max_tokens": max_tokens, "n_ctx": n_ctx, "grammar": grammar}
    return LMHandle(lm=lm, spec=spec, name=f"local/{name}", fingerprint=f"sha256:{fingerprint}", is_local=True, engine=engine, settings=settings)


def build_lm(
    spec: str = "local",
    *,
    temperature: float = 0.9,
    max_tokens: int = 768,
    api_base: str | None = None,
    n_ctx: int = 4096,
    n_threads: int | None = None,
    cache: bool = True,
    grammar: str = "auto",
) -> LMHandle:
    """Turn an `--lm` value into an `LMHandle`.

    Args:
        spec: `local`, `local:NAME` (a name from `synsym models`), `local:PATH.gguf`, or a
            LiteLLM model string.
        temperature: Sampling temperature; above 0 so that repeated prompts give distinct posts.
        max_tokens: Maximum completion tokens per call.
        api_base: Server address for LiteLLM models (for example a vLLM or Ollama server).
        n_ctx: Context window in tokens, local models only.
        n_threads: CPU threads, local models only; None uses every core.
        cache: Whether DSPy's response cache is used.
        grammar: Decoding constraint for local models: `auto` (the model's own choice),
            `off`, `json` or `schema`. Ignored for LiteLLM models.

    Raises:
        LMSpecError: the value names no known model or file.
        ModelFileError: a local model file is missing or fails verification.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if spec == "local" or spec.startswith("local:"):
        if api_base:
            raise LMSpecError(f"--api-base {api_base!r} applies to LiteLLM models only, not to {spec!r}")
        target = spec.partition(":")[2] or DEFAULT_LOCAL_MODEL
        if target in LOCAL_MODELS:
            return _local_handle(spec, LOCAL_MODELS[target], Path(), temperature, max_tokens, n_ctx, n_threads, cache, grammar)
        path = Path(target).expanduser()
        if path.suffix.lower() != ".gguf":
            known = ", ".join(LOCAL_MODELS)
            raise LMSpecError(f"--lm {spec!r}: {target!r} is neither a known local model ({known}) nor a .gguf file")
        if not path.is_file():
            raise LMSpecError(f"--lm {spec!r}: GGUF file {path} not found")
        return _local_handle(spec, None, path, temperature, max_tokens, n_ctx, n_threads, cache, grammar)

    if "/" not in spec:
        raise LMSpecError(
            f"--lm {spec!r} is not a LiteLLM model string of the form provider/model (for example "
            "openai/gpt-4o-mini or ollama_chat/llama3.1); use `local` for the embedded model"
        )
    kwargs = {"temperature": temperature, "max_tokens": max_tokens, "cache": cache}
    if api_base:
        kwargs["api_base"] = api_base
    lm = dspy.LM(spec, **kwargs)
    return LMHandle(lm=lm, spec=spec, name=spec, fingerprint=spec, is_local=False, settings={"temperature": temperature, "max_tokens": max_tokens, "api_base": api_base})


__all__ = ["LMHandle", "LMSpecError", "ModelFileError", "build_lm"]
