"""A tiny observer primitive so the Qt scene can mirror the model without the model knowing Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """Synchronous callback list: ``connect`` a callable, ``emit`` calls each in order."""

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
