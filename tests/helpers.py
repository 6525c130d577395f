"""Test helpers shared by several test modules."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import nacl.signing
import trio

from meshcare import envelope as env

NOW = 1_800_000_000  # a fixed "now" for pure tests (2027-01-15)
DAY = 86_400


def make_envelope(signing_key: nacl.signing.SigningKey | None = None, *, topic: bytes = b"T" * 16,
                  key: bytes = b"K" * 32, seq: int = 1, created: int = NOW, ttl: int = 30 * DAY,
                  plaintext: bytes = b"hello", lane: env.Lane = env.Lane.NORMAL,
                  nonce: bytes | None = None, epoch: int = 0, lamport: int = 1,
                  prev: bytes | None = None) -> env.Envelope:
    """Seal a test envelope with deterministic defaults."""
    return env.seal(signing_key=signing_key or nacl.signing.SigningKey(b"S" * 32), topic=topic, epoch=epoch,
                    key=key, seq=seq, lamport=lamport, created=created, expires=created + ttl,
                    plaintext=plaintext, lane=lane, nonce=nonce, prev=env.filler_prev(seq) if prev is None else prev)


async def wait_for(predicate: Callable[[], object], timeout: float = 30.0, *, interval: float = 0.01) -> None:
    """Return once ``predicate()`` is true, checking it every ``interval`` seconds of trio's clock.

    trio's clock, not the wall's: under ``MockClock(autojump_threshold=0)`` (the ``autojump_clock``
    fixture) the waits cost no real time, and ``timeout`` is in virtual seconds. Raises AssertionError
    naming the predicate (its source line) when it is still false after ``timeout``.
    """
    deadline = trio.current_time() + timeout
    while not predicate():
        if trio.current_time() >= deadline:
            raise AssertionError(f"still false after {timeout:g} s of trio's clock: {_describe(predicate)}")
        await trio.sleep(interval)


def _describe(predicate: Callable[[], object]) -> str:
    """The predicate's source (a lambda's is the line that holds it) and where it is, for a failure message."""
    code = getattr(predicate, "__code__", None)
    where = f" ({Path(code.co_filename).name}:{code.co_firstlineno})" if code is not None else ""
    try:
        source = " ".join(inspect.getsource(predicate).split())
    except (OSError, TypeError):
        source = getattr(predicate, "__qualname__", repr(predicate))
    return (source if len(source) <= 300 else source[:297] + "...") + where
