"""A value built on first use, once, whatever the thread: the kiosk's heavy services
(DMP client, ledger) load after the welcome screen is up, not before."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build: Callable[[], T] | None = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        """One already built."""
        lazy = cls(lambda: value)
        lazy()
        return lazy

    @property
    def built(self) -> bool:
        return self._build is None

    def __call__(self) -> T:
        if self._build is not None:
            with self._lock:
                if self._build is not None:  # another thread may have built it meanwhile
                    self._value = self._build()
                    self._build = None
        return self._value  # type: ignore[return-value]  # set once built
