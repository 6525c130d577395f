"""The base of every result, and the ``linked`` key results of ops that post share.

Apart from ``results.py`` so that the result modules of each feature (``results_gatherings.py``, ...)
derive from it while ``results.py`` lists them all in ``RESULTS`` (no import cycle).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .schema import Maybe, Record, key
from .views import COUNT

__all__ = ["Result"]


def _linked() -> Any:
    """The ``linked`` key of results of ops that post: whether what was posted can leave this node now."""
    return key(Maybe(COUNT), "links open now to nodes that share the circle (members' and relays'; for "
               "`presence.set`, one of the circles told): 0 means it is kept here and goes when one of them is "
               "reachable (null: a daemon older than this key)", default=None)


class Result(Record):
    """Base of every result; ``OP`` names the operation that answers it."""

    __slots__ = ()
    OP: ClassVar[str] = ""
    WHAT: ClassVar[str] = "the answer"
