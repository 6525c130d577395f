"""Requests of the social-recovery ops (``recovery.*``). ``requests.REQUESTS`` lists them with the rest."""

from __future__ import annotations

from dataclasses import dataclass

from . import names as n
from . import results_recovery as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import MEMBER_REF, NO_CIRCLE, NO_MEMBER, Request, circle_arg
from .schema import Flag, Hex, Int, Maybe, Seq, Text, arg

__all__ = ["REQUESTS_RECOVERY", "RecoveryCollect", "RecoveryRelease", "RecoveryRequest", "RecoverySetup",
           "RecoveryStatus"]

#: A REQUEST code as pasted (spaces and line breaks allowed).
_CODE = Text(5, 2_000, strip=True, hint="the new device shows it: `meshcare recovery request`")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoverySetup(Request[r.RecoverySetupResult]):
    """Set up social recovery: a new recovery key seals this person's current backup bundle, and is split
    among `members` of `circle` so that any `threshold` of them can give it back to a new device. Each
    holder gets their share, the sealed backup and the signed setup record in a post sealed to them
    alone. A new setup replaces the old one."""

    OP = n.OP_RECOVERY_SETUP
    ERRORS = (NO_CIRCLE, NO_MEMBER,
              (BAD_REQUEST, "fewer than 2 or more than 10 members; a threshold below 2 or above the number of "
                            "members; this person among them; a relay chosen; this node not a member there; "
                            "the backup too large to send"))
    circle: str = circle_arg()
    members: tuple[str, ...] = arg(Seq(MEMBER_REF, 2, 10, distinct=True, item_noun="member"),
                                   "who holds a share: 2 to 10 members, by name or start of id", noun="the members")
    threshold: int = arg(Int(2, 10), "how many of them must release their shares", noun="the threshold")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryStatus(Request[r.RecoveryStatusResult]):
    """This node's social recovery: its own setup, what it holds for others, what it released."""

    OP = n.OP_RECOVERY_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryRequest(Request[r.RecoveryRequestResult]):
    """On a NEW device (a fresh node with a throwaway identity): make a recovery request. The node keeps a
    new key pair for it and serves the request's lobby, where holders release their shares; give the
    REQUEST code to the holders and compare the fingerprint with each of them in person."""

    OP = n.OP_RECOVERY_REQUEST
    ERRORS = ((BAD_REQUEST, "`owner` is not a 64-digit identity; this node is already in a circle (recovery "
                            "replaces its identity: use a fresh data dir)"),)
    owner: str | None = arg(Maybe(Hex(32)), "the identity to recover, as 64 hex digits, when "
                            "you know it (null: whoever the holders release for)", noun="the owner", default=None)
    name: str | None = arg(Maybe(Text(1, 64, strip=True)), "your name as the holders know it (a hint shown to "
                           "them; default: this node's name)", noun="the name", default=None)
    new: bool = arg(Flag(), "replace an open request with a new one (releases made to the old one are lost)",
                    noun="new", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCollect(Request[r.RecoveryCollectResult]):
    """On the new device: what the holders released so far, which shares count, and, once enough do, the
    opened backup."""

    OP = n.OP_RECOVERY_COLLECT
    ERRORS = ((NOT_FOUND, "this device has no recovery request (`recovery.request` makes one)"),
              (BAD_REQUEST, "the shares opened a key that does not open the backup, or the backup is of another "
                            "identity than the one that signed the setup"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryRelease(Request[r.RecoveryReleaseResult]):
    """On a holder's node: release the share held for the person whose REQUEST code this is, sealed to the
    request's key, into its lobby (served for 24 hours). Only after checking the fingerprint IN PERSON
    with them: `check_only` shows whose it is and the fingerprint without releasing."""

    OP = n.OP_RECOVERY_RELEASE
    ERRORS = ((NOT_FOUND, "this node holds no share for the person the request names (or several match: "
                          "name them with `owner`)"),
              (BAD_REQUEST, "a damaged or malformed REQUEST code"))
    request: str = arg(_CODE, "the REQUEST code the new device shows (MCR1...)", noun="the request")
    owner: str | None = arg(Maybe(Text(4, 64, strip=True)), "whose share, by the start of their identity, when the "
                            "request does not say (null: as the request says)", noun="the owner", default=None)
    check_only: bool = arg(Flag(), "only show whose it is and the fingerprint; release nothing",
                           noun="check only", default=False)

#: The requests of ``recovery.*`` (``requests.REQUESTS`` lists them with the rest).
REQUESTS_RECOVERY = (RecoverySetup, RecoveryStatus, RecoveryRequest, RecoveryCollect, RecoveryRelease)
