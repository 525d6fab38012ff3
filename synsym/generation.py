"""The public entry point for generation: settings in, a run folder and a data set out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from synsym.config import GenerationConfig
from synsym.dataset import GeneratedData
from synsym.lm import LMHandle, build_lm
from synsym.modules import SynSymProgram
from synsym.programs import load_program
from synsym.runner import FolderStore, run_generation

logger = logging.getLogger(__name__)


@dataclass
class GenerationResult:
    """A finished (or resumed and finished) run."""

    folder: Path
    data: GeneratedData
    lm: LMHandle


def generate(
    config: GenerationConfig,
    *,
    lm: LMHandle | None = None,
    program: SynSymProgram | None = None,
    n_threads: int | None = None,
    show_progress: bool = True,
) -> GenerationResult:
    """Generate (or resume) the run described by `config` in its output folder.

    Args:
        config: The run's settings; `config.output` is the run folder.
        lm: An LM to use instead of building one from `config.lm`.
        program: A program to use instead of `config.program` or the built-in prompts.
        n_threads: CPU threads for a local model (None: all cores).
        show_progress: Show progress bars on stderr.

    Example:
        >>> result = generate(GenerationConfig(output="runs/demo"))  # doctest: +SKIP
        >>> len(result.data.rows)  # doctest: +SKIP
    """
    if program is None:
        program = load_program(config.program) if config.program else SynSymProgram()
    handle = lm or build_lm(config.lm, temperature=config.temperature, max_tokens=config.max_tokens, api_base=config.api_base, n_threads=n_threads, grammar=config.grammar)
    store = FolderStore(config.output)
    data = run_generation(program, config, store, lm=handle.lm, lm_name=handle.name, is_local=handle.is_local, show_progress=show_progress)
    return GenerationResult(folder=Path(config.output), data=data, lm=handle)
