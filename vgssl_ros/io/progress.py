"""One progress convention for every command: a tqdm bar on a terminal, a plain line every few seconds
otherwise (no carriage returns in logs), nothing at all when quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

T = TypeVar("T")

LINE_INTERVAL_S = 10.0
"""Seconds between two progress lines when the output is not a terminal."""

QUIET_HELP = "print only results and errors (no progress bar or progress lines)"


class Progress:
    """Counts work done; shows it as a bar (terminal), a line every ``interval_s`` (log) or not at all (quiet).

    Use as ``for x in progress.wrap(items)`` or ``with progress: progress.update(n)``; ``note`` adds a short
    status (e.g. the loss) to what is shown."""

    def __init__(
        self,
        desc: str,
        unit: str,
        total: int | None = None,
        quiet: bool = False,
        stream: IO[str] | None = None,
        interval_s: float = LINE_INTERVAL_S,
    ) -> None:
        self.desc, self.unit, self.total, self.interval_s = desc, unit, total, interval_s
        self.stream = sys.stderr if stream is None else stream
        self.count, self.status = 0, ""
        self._started = self._last_line = time.monotonic()
        self._closed = False
        self._bar: Any = None
        self.mode = "quiet" if quiet else "bar" if _is_terminal(self.stream) else "lines"
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(desc=desc, unit=unit, total=total, file=self.stream, leave=False)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines" and time.monotonic() - self._last_line >= self.interval_s:
            self._line()

    def note(self, status: str) -> None:
        """Show ``status`` beside the count from now on."""
        self.status = status
        if self._bar is not None:
            self._bar.set_postfix_str(status, refresh=False)

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items``, counting each one; closes the progress when they end."""
        try:
            for item in items:
                self.update()  # counted when handed out: a loop that breaks still counts the item it processed
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Remove the bar; in line mode print a last line with the total (once)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines" and self.count:
            self._line(done=True)

    def _line(self, done: bool = False) -> None:
        elapsed = time.monotonic() - self._started
        self._last_line = time.monotonic()
        of = f"/{self.total}" if self.total is not None else ""
        rate = f", {self.count / elapsed:.1f} {self.unit}/s" if elapsed > 0 else ""
        status = f"  {self.status}" if self.status else ""
        state = "done" if done else "..."
        self.stream.write(f"{self.desc}: {self.count}{of} {self.unit} in {elapsed:.0f} s{rate}{status} {state}\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed or odd stream counts as not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
