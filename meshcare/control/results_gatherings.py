"""What the gathering and agreements ops answer (``results.RESULTS`` lists them with the others)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from . import names as n
from .result_base import Result, _linked
from .schema import Seq, View, key
from .views import ID
from .views_gatherings import Agreements, Gathering

__all__ = ["AgreementsSetResult", "AgreementsShowResult", "GatheringCancelResult", "GatheringCreateResult",
           "GatheringListResult", "GatheringRsvpResult", "GatheringShowResult", "RESULTS_GATHERINGS"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringCreateResult(Result):
    """The gathering, as it went out."""

    OP: ClassVar[str] = n.OP_GATHERING_CREATE
    gathering: Gathering = key(View(Gathering), "the new gathering")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringListResult(Result):
    """Gatherings this node can read."""

    OP: ClassVar[str] = n.OP_GATHERING_LIST
    gatherings: tuple[Gathering, ...] = key(Seq(View(Gathering), item_noun="gathering"),
                                            "soonest first (with `all`: past and called-off ones after them)")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringShowResult(Result):
    """One gathering."""

    OP: ClassVar[str] = n.OP_GATHERING_SHOW
    gathering: Gathering = key(View(Gathering), "the gathering")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringCancelResult(Result):
    """The gathering, called off."""

    OP: ClassVar[str] = n.OP_GATHERING_CANCEL
    id: str = key(ID, "the cancellation's id")
    gathering: Gathering = key(View(Gathering), "the gathering as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringRsvpResult(Result):
    """The answer posted."""

    OP: ClassVar[str] = n.OP_GATHERING_RSVP
    id: str = key(ID, "the RSVP's id")
    gathering: Gathering = key(View(Gathering), "the gathering as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementsShowResult(Result):
    """A circle's group agreements."""

    OP: ClassVar[str] = n.OP_AGREEMENTS_SHOW
    agreements: Agreements = key(View(Agreements), "the circle's template")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementsSetResult(Result):
    """The template as set."""

    OP: ClassVar[str] = n.OP_AGREEMENTS_SET
    id: str = key(ID, "the post's id")
    agreements: Agreements = key(View(Agreements), "the circle's template now")
    linked: int | None = _linked()


RESULTS_GATHERINGS: Final[tuple[type[Result], ...]] = (
    GatheringCreateResult, GatheringListResult, GatheringShowResult, GatheringCancelResult, GatheringRsvpResult,
    AgreementsShowResult, AgreementsSetResult)
