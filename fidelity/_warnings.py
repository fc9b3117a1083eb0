"""fidelity's warning class and the once-per-message log filter (no numerical imports)."""

from __future__ import annotations

import logging

__all__ = ["FidelityWarning", "OnceFilter"]


class FidelityWarning(UserWarning):
    """Warning raised by fidelity (rows dropped by a filter, MI at its null, ...)."""


class OnceFilter(logging.Filter):
    """A logging filter that lets each distinct message through once (per filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True
