"""A one-slot mailbox: the producer never blocks, the consumer always gets the newest item."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Keeps only the newest item; ``put`` reports whether an unread item was overwritten (a drop)."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._full = False
        self._closed = False
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: T) -> bool:
        """Store ``item``; return True if it replaced one the consumer had not taken."""
        with self._cond:
            replaced = self._full
            if replaced:
                self.dropped += 1
            self._item, self._full = item, True
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to ``timeout`` s; None on timeout or once closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full or self._closed, timeout):
                return None
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake the consumer for good (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
