"""The node's signature check, spread over worker threads: verification is most of the receive cost,
and libsodium releases the GIL while it verifies, so one thread per core scales it.

The ``Node`` takes this as its ``check_signatures`` and calls it synchronously, inside the handling of
one frame: the engine needs the verdicts in hand to decide what it persists and forwards. Small batches
are checked on the calling thread; big ones are split into chunks checked in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from .. import envelope as env

CHUNK: Final = 32   # signatures checked per worker-thread task


class SignatureCheck:
    """``check(envelopes) -> [valid, ...]``, in ``threads`` worker threads (default: one per core)."""

    def __init__(self, threads: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(threads or os.cpu_count() or 1, thread_name_prefix="meshcare-verify")

    def __call__(self, envelopes: Sequence[env.Envelope]) -> list[bool]:
        items = list(envelopes)
        if len(items) <= CHUNK:
            return env.signatures_valid(items)
        chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
        return [flag for part in self._pool.map(env.signatures_valid, chunks) for flag in part]

    def close(self) -> None:
        """Stop the workers (queued chunks are dropped: the daemon is stopping)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
