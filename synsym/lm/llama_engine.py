"""A DSPy engine that runs a GGUF model in process with llama-cpp-python.

DSPy 3.4 accepts a custom engine object (`dspy.LM(model, engine=...)`) that implements
`complete(Request) -> Response`. DSPy keeps its cache, retries and adapters; the engine
only turns one canonical request into one chat completion.

Grammar-constrained decoding is optional (`constrain`). It guarantees parseable JSON, but
llama-cpp-python applies the grammar over the whole vocabulary (151k tokens for Qwen2.5)
at every step. Measured on 2 CPU cores, a JSON-schema grammar cut generation from about
16 to about 4 tokens per second. The default is therefore unconstrained decoding: DSPy's
JSONAdapter repairs and validates the JSON, and the runner retries a unit that fails.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from dspy.clients.engines.base import validate_request
from dspy.lm15 import Message, Response, TextPart, Usage, response_to_events

logger = logging.getLogger(__name__)


@dataclass
class EngineStats:
    """Counters for the work done inside the model (thread-safe through the engine's lock)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def _system_text(system: Any) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    return "".join(getattr(part, "text", "") for part in system)


def _message_text(message: Message) -> str:
    return "".join(getattr(part, "text", "") or "" for part in message.parts)


def _schema_of(response_format: Any) -> dict | None:
    """Extract a JSON schema from the response formats DSPy hands to an engine."""
    if not isinstance(response_format, dict):
        return None
    if "schema" in response_format and isinstance(response_format["schema"], dict):
        return response_format["schema"]
    if isinstance(response_format.get("json_schema"), dict):
        inner = response_format["json_schema"]
        return inner.get("schema") if isinstance(inner.get("schema"), dict) else None
    if response_format.get("type") == "json_object":
        return {"type": "object"}
    return None


def bound_schema(schema: dict, max_chars: int, max_items: int) -> dict:
    """Return a copy of a JSON schema whose strings and arrays are neither empty nor unbounded.

    Under a grammar, a small model that loses its way fills a string until `max_tokens`
    and the JSON is cut off; the bounds make it close the string and the object instead.
    """
    if isinstance(schema, list):
        return [bound_schema(item, max_chars, max_items) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: bound_schema(value, max_chars, max_items) for key, value in schema.items()}
    if bounded.get("type") == "string" and "enum" not in bounded:
        bounded.setdefault("minLength", 1)
        bounded.setdefault("maxLength", max_chars)
    if bounded.get("type") == "array":
        bounded.setdefault("minItems", 1)
        bounded.setdefault("maxItems", max_items)
    return bounded


class LlamaCppEngine:
    """Run chat completions on a local GGUF file with llama-cpp-python.

    The model loads on the first call, so constructing the engine is cheap. Calls are
    serialised with a lock because a `llama_cpp.Llama` context is not thread-safe;
    consecutive calls that share a prompt prefix (the same signature's instructions)
    reuse llama.cpp's KV cache for that prefix.

    Args:
        model_path: Path of the GGUF file.
        n_ctx: Context window in tokens.
        n_threads: CPU threads for generation; None uses every core (llama-cpp-python's own
            default is half of them, which halves speed on a 2-core machine).
        seed: Seed for sampling when a request gives none.
        model_name: The model name reported in responses.
        constrain: `off` (default), `json` (any JSON object) or `schema` (the adapter's JSON
            schema, with strings bounded to `max_string_chars` and arrays to
            `max_items`), the grammar applied to generation.
        max_string_chars: Longest string the `schema` grammar allows.
        max_items: Longest array the `schema` grammar allows.

    Example:
        >>> engine = LlamaCppEngine("model.gguf")  # doctest: +SKIP
        >>> lm = dspy.LM("local/model", engine=engine, temperature=0.8)  # doctest: +SKIP
    """

    supports_function_calling = False
    supports_reasoning = False

    def __init__(
        self,
        model_path: str,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        model_name: str | None = None,
        constrain: str = "off",
        max_string_chars: int = 480,
        max_items: int = 12,
    ):
        if constrain not in ("off", "json", "schema"):
            raise ValueError(f"constrain={constrain!r} is invalid; use 'off', 'json' or 'schema'")
        self.constrain = constrain
        self.max_string_chars = max_string_chars
        self.max_items = max_items
        self.model_path = str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.seed = seed
        self.model_name = model_name or self.model_path
        self.stats = EngineStats()
        self._llama = None
        self._lock = threading.Lock()

    @property
    def supports_response_schema(self) -> bool:
        return self.constrain == "schema"

    @property
    def supported_params(self) -> frozenset[str]:
        params = {"temperature", "max_tokens", "top_p", "top_k", "seed", "stop"}
        if self.constrain != "off":
            params.add("response_format")
        return frozenset(params)

    def _load(self):
        if self._llama is None:
            from llama_cpp import Llama

            started = time.perf_counter()
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
            logger.info("loaded %s in %.1f s", self.model_path, time.perf_counter() - started)
        return self._llama

    def complete(self, request) -> Response:
        validate_request(request)
        messages = []
        system = _system_text(request.system)
        if system:
            messages.append({"role": "system", "content": system})
        for message in request.messages:
            role = message.role if message.role in ("system", "user", "assistant") else "user"
            messages.append({"role": role, "content": _message_text(message)})

        config = request.config
        kwargs: dict[str, Any] = {
            "messages": messages,
            "temperature": 0.0 if config.temperature is None else config.temperature,
            "max_tokens": config.max_tokens or 1024,
            "seed": config.seed if config.seed is not None else self.seed,
        }
        if config.top_p is not None:
            kwargs["top_p"] = config.top_p
        if config.top_k is not None:
            kwargs["top_k"] = config.top_k
        if config.stop:
            kwargs["stop"] = list(config.stop)
        schema = _schema_of(config.response_format) if self.constrain != "off" else None
        if schema is not None and self.constrain == "json":
            schema = {"type": "object"}
        elif schema is not None:
            schema = bound_schema(schema, self.max_string_chars, self.max_items)
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}

        with self._lock:
            llama = self._load()
            started = time.perf_counter()
            result = llama.create_chat_completion(**kwargs)
            elapsed = time.perf_counter() - started
            usage = result.get("usage") or {}
            self.stats.calls += 1
            self.stats.prompt_tokens += usage.get("prompt_tokens", 0)
            self.stats.completion_tokens += usage.get("completion_tokens", 0)
            self.stats.seconds += elapsed

        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return Response(
            id=result.get("id"),
            model=self.model_name,
            message=Message.assistant((TextPart(text),)),
            finish_reason=finish,
            usage=Usage(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
        )

    def stream(self, request):
        return response_to_events(self.complete(request))

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    # DSPy saves an LM's engine with `dump_state` and rebuilds it with `load_state`.
    def dump_state(self) -> dict:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "n_threads": self.n_threads, "seed": self.seed, "model_name": self.model_name,
                "constrain": self.constrain, "max_string_chars": self.max_string_chars, "max_items": self.max_items}

    @classmethod
    def load_state(cls, state: dict) -> LlamaCppEngine:
        return cls(**state)
