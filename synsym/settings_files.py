"""Shared reading of settings files: TOML recipes and the messages for invalid fields."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError


def format_validation_error(error: ValidationError, heading: str) -> str:
    """Render a Pydantic error as a heading plus one line per invalid field, with its value."""
    lines = [heading]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {location}: {message} (value: {item.get('input')!r})")
    return "\n".join(lines)


def read_toml(path: str | Path, error_type: type[Exception], kind: str, example: str) -> dict:
    """Read a TOML file, raising `error_type` when it is missing or not valid TOML.

    Args:
        path: The file.
        error_type: The exception the caller's users expect (for example `RecipeError`).
        kind: What the file is, for messages (for example "study recipe").
        example: A path to suggest when the file is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise error_type(f"{kind} {path} not found; pass the path of a TOML file such as {example}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise error_type(f"{kind} {path} is not valid TOML: {error}") from None
