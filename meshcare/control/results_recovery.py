"""What the social-recovery ops answer (``recovery.*``): the setup, what this node holds for others,
a new device's request and how far it got, a holder's release. ``results.RESULTS`` lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from . import names as n
from .result_base import Result, linked as _linked
from .schema import Flag, Int, Maybe, Record, Seq, View, key
from .shapes import Hex, Text, Time

__all__ = ["Holder", "Holding", "OwnSetup", "Progress", "RecoveryCollectResult", "RecoveryReleaseResult",
           "RecoveryRequestResult", "RecoverySetupResult", "RecoveryStatusResult", "Refused", "RESULTS_RECOVERY",
           "VIEWS_RECOVERY"]

_ID: Final = Hex(32)
_RID: Final = Hex(16)
_TEXT: Final = Text()
_COUNT: Final = Int(0, 1_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder(Record):
    """Someone chosen to hold a share, in share order."""

    WHAT: ClassVar[str] = "a holder"
    id: str = key(_ID, "their identity")
    name: str = key(_TEXT, "their name when the setup was made")


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnSetup(Record):
    """This person's social-recovery setup: who holds a share, how many are needed, and when it was made
    (the backup it protects is as of then: a later setup refreshes it)."""

    WHAT: ClassVar[str] = "a recovery setup"
    rid: str = key(_RID, "the setup's id (a new setup replaces it)")
    circle: str = key(Hex(16), "the circle the shares went through")
    circle_name: str | None = key(Maybe(_TEXT), "its name (null: this node is no longer in it)")
    threshold: int = key(_COUNT, "how many holders must release their shares")
    holders: tuple[Holder, ...] = key(Seq(View(Holder), item_noun="holder"), "the holders, in share order")
    created: int = key(Time(), "when it was set up (the backup inside is from then)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding(Record):
    """A share this node holds for someone."""

    WHAT: ClassVar[str] = "a share held"
    owner: str = key(_ID, "whose share: their identity")
    name: str = key(_TEXT, "their name when they set it up")
    rid: str = key(_RID, "the setup's id")
    threshold: int = key(_COUNT, "how many holders must release")
    holders: int = key(_COUNT, "how many hold a share")
    created: int = key(Time(), "when the owner set it up")
    received: int = key(Time(), "when this node got the share")


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(Record):
    """A release the new device did not count, and why."""

    WHAT: ClassVar[str] = "a refused release"
    holder: str | None = key(Maybe(_ID), "who sent it (the envelope's author; null: not one holder)")
    reason: str = key(_TEXT, "why it does not count, in words")


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(Record):
    """How far this new device's recovery request got."""

    WHAT: ClassVar[str] = "a recovery's progress"
    request: str = key(_TEXT, "the REQUEST code (MCR1...) to show the holders")
    fingerprint: str = key(_TEXT, "six groups of five digits the holders compare with you in person")
    owner: str | None = key(Maybe(_ID), "whose identity is being recovered (null: no valid share yet)")
    name: str | None = key(Maybe(_TEXT), "their name, from the setup record")
    threshold: int | None = key(Maybe(_COUNT), "how many shares are needed (null: no valid share yet)")
    released: tuple[Holder, ...] = key(Seq(View(Holder), item_noun="holder"), "holders whose shares count")
    needed: int | None = key(Maybe(_COUNT), "how many more shares are needed (null: no valid share yet)")
    refused: tuple[Refused, ...] = key(Seq(View(Refused), item_noun="refusal"), "releases that do not count")
    complete: bool = key(Flag(), "enough shares came: the backup opened and is in `bundle`")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoverySetupResult(Result):
    """The setup as it went out: one private post to each holder."""

    OP: ClassVar[str] = n.OP_RECOVERY_SETUP
    setup: OwnSetup = key(View(OwnSetup), "the setup")
    posts: tuple[str, ...] = key(Seq(_ID), "the share posts' ids, one per holder")
    replaced: str | None = key(Maybe(_RID), "the setup it replaced (its holders drop their old shares when the "
                               "new ones reach them; null: none)")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryStatusResult(Result):
    """This node's part in social recovery: its own setup, the shares it holds for others, the requests
    it released to (while it serves them), and this device's own request, if any."""

    OP: ClassVar[str] = n.OP_RECOVERY_STATUS
    setup: OwnSetup | None = key(Maybe(View(OwnSetup)), "this person's setup (null: none)")
    holding: tuple[Holding, ...] = key(Seq(View(Holding), item_noun="share"), "shares held for others")
    serving: int = key(_COUNT, "requests this node released a share to and still serves")
    requesting: bool = key(Flag(), "this device has a recovery request open (`recovery.collect` shows it)")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryRequestResult(Result):
    """The request this new device shows the holders (the same one until it is done, unless `new`)."""

    OP: ClassVar[str] = n.OP_RECOVERY_REQUEST
    request: str = key(_TEXT, "the REQUEST code (MCR1...): give it to the holders any way you like")
    fingerprint: str = key(_TEXT, "six groups of five digits: compare them with each holder IN PERSON")
    lobby: str = key(Hex(16), "the lobby topic the releases arrive in")
    created: int = key(Time(), "when the request was made")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCollectResult(Result):
    """What arrived for this device's request. Once enough valid shares came, the backup is opened and
    checked (its identity is the one that signed the setup) and handed over in `bundle`, for the client to
    restore (the daemon must stop for that: `meshcare recovery request --status` does it)."""

    OP: ClassVar[str] = n.OP_RECOVERY_COLLECT
    progress: Progress = key(View(Progress), "how far it got")
    bundle: str | None = key(Maybe(_TEXT), "the opened backup bundle, as hex digits (null until complete)",
                             default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryReleaseResult(Result):
    """The release (or, with `check_only`, what would be released)."""

    OP: ClassVar[str] = n.OP_RECOVERY_RELEASE
    owner: str = key(_ID, "whose share")
    name: str = key(_TEXT, "their name when they set it up")
    fingerprint: str = key(_TEXT, "the request's fingerprint: the owner must show you the same digits")
    released: bool = key(Flag(), "the share went out (false with `check_only`)")
    id: str | None = key(Maybe(_ID), "the release's envelope id (null with `check_only`)")
    until: int | None = key(Maybe(Time()), "this node serves the request's lobby until then")
    linked: int | None = _linked()


#: The views these results nest.
VIEWS_RECOVERY: Final = (Holder, OwnSetup, Holding, Refused, Progress)

#: The results of ``recovery.*`` (``results.RESULTS`` lists them with the rest).
RESULTS_RECOVERY: Final = (RecoverySetupResult, RecoveryStatusResult, RecoveryRequestResult, RecoveryCollectResult,
                           RecoveryReleaseResult)
