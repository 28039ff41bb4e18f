"""Typed, range-checked reads of values from files (map.json, calibration.json, model metadata).

Each failure raises the caller's error type with one line naming the file, the field, what was wrong and what
to do, so a damaged file never reaches native code (FAISS, ONNX Runtime) or a traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

MAX_JSON_BYTES = 1 << 22
"""Largest JSON side file read (4 MiB); the files vgssl writes are a few kB."""


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_path(path: Path) -> str:
    """``path`` for error messages; a relative one also names the folder it was resolved against."""
    return str(path) if path.is_absolute() else f"{path} (relative to {Path.cwd()})"


class FileFields:
    """Reads fields of one parsed file; failures raise ``error(f"{file}: {field} {problem}; {fix}")``."""

    def __init__(self, file: str | Path, error: type[ValueError], fix: str) -> None:
        self.file, self.error, self.fix = str(file), error, fix

    def fail(self, field: str, problem: str) -> NoReturn:
        """Raise the error for ``field``."""
        raise self.error(f"{self.file}: {field} {problem}; {self.fix}")

    def get(self, obj: Mapping[str, Any], key: str, field: str | None = None) -> Any:
        """``obj[key]``, or fail naming ``field`` (default ``key``) as missing."""
        if key not in obj:
            self.fail(field or key, "is missing")
        return obj[key]

    def integer(self, value: object, field: str, lo: int, hi: int) -> int:
        """A JSON integer (not a bool, not a float) in [lo, hi]."""
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(field, f"must be an integer in [{lo}, {hi}], got {shown(value)}")
        return value

    def number(self, value: object, field: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        """A finite JSON number (int or float, not a bool) in [lo, hi]."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(field, f"must be a number, got {shown(value)}")
        number = float(value)
        if not (math.isfinite(number) and lo <= number <= hi):
            self.fail(field, f"must be a finite number in [{lo:g}, {hi:g}], got {shown(value)}")
        return number

    def text(self, value: object, field: str, max_len: int = 4096) -> str:
        """A string of at most ``max_len`` characters."""
        if not isinstance(value, str) or len(value) > max_len:
            self.fail(field, f"must be a string (at most {max_len} characters), got {shown(value)}")
        return value

    def mapping(self, value: object, field: str) -> dict[str, Any]:
        """A JSON object."""
        if not isinstance(value, dict):
            self.fail(field, f"must be a JSON object, got {shown(value)}")
        return value

    def int_text(self, value: object, field: str, lo: int, hi: int) -> int:
        """A string holding a decimal integer in [lo, hi] (ONNX metadata values are strings)."""
        text = value.strip() if isinstance(value, str) else ""
        if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12 and lo <= int(text) <= hi):
            self.fail(field, f"must be an integer in [{lo}, {hi}], got {shown(value)}")
        return int(text)


def read_json(file: Path, error: type[ValueError], fix: str) -> Any:
    """Parse ``file`` as JSON; a missing, huge, undecodable, malformed or absurdly nested file raises ``error``."""
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise error(f"{file} cannot be read ({exc.strerror or exc}); {fix}") from None
    if size > MAX_JSON_BYTES:
        raise error(f"{file} is {size} bytes, more than a vgssl JSON file ({MAX_JSON_BYTES}); {fix}")
    try:
        return json.loads(file.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError, OSError, MemoryError) as exc:
        raise error(f"{file} is not valid JSON ({shown(str(exc), 80)}); {fix}") from None
