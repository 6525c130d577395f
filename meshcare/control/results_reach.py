"""What ``circle.reach`` answers (``results.py`` lists it in ``RESULTS``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import names as n
from .result_base import Result
from .schema import Flag, Maybe, Text, key
from .views import CIRCLE_ID

__all__ = ["CircleReachResult", "RESULTS_REACH"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleReachResult(Result):
    """The choice as kept, this node's onion address, and what the circle's roster shows for it now
    (the node tells the circle within seconds when the two differ)."""

    OP: ClassVar[str] = n.OP_CIRCLE_REACH
    circle: str = key(CIRCLE_ID, "the circle's id")
    share: bool = key(Flag(), "this node's onion address is shared with the circle")
    onion: str | None = key(Maybe(Text()), "this node's published onion address, xxx.onion:PORT (null: it "
                            "has none: no --tor, --no-onion-service, or not published yet)")
    shown: str | None = key(Maybe(Text()), "the address the circle's members see for this node now (null: "
                            "none)")


RESULTS_REACH = (CircleReachResult,)
