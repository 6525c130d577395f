"""Pick a store implementation: the one place that imports both (the protocol itself imports neither)."""

from __future__ import annotations

from pathlib import Path

from . import Store
from .memory import MemoryStore
from .sqlite import SqliteStore


def open_store(path: Path | None, *, synchronous: str = "FULL") -> Store:
    """A durable store at ``path``, or a ``MemoryStore`` when ``path`` is None (simulator, tests)."""
    return MemoryStore() if path is None else SqliteStore(path, synchronous=synchronous)
