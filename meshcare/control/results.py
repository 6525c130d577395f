"""What each control operation answers: one typed result per op, ``RESULTS`` maps op name -> class.

A result's ``to_data`` is exactly the map the daemon sends (docs/cli.md prints it as ``--json``: keys
are added, never renamed). Nested objects are the views of ``views.py``. Thread operations (offer,
claim, release, accept, update, resolve) answer the new post's id and the call as it is now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from .. import vocab
from . import names as n
from .schema import Choice, Flag, Int, Maybe, Number, Plain, Record, Seq, Text, Time, View, key
from .result_base import Result, linked as _linked
from .results_board import (BoardSetResult, NeedCreateResult, NeedDoneResult, NeedListResult, NeedReleaseResult,
                            NeedTakeResult)
from .views_board import Board, Need
from .views_doctor import TorStatus
from .results_gatherings import RESULTS_GATHERINGS
from .results_doctor import NodeHealthResult
from .results_requests import RESULTS_REQUESTS
from .results_recovery import RESULTS_RECOVERY
from .views_gatherings import Gathering
from .views import (CIRCLE_ID, COUNT, ID, TEXT, WHEN, Call, Checkin, Circle, CircleRoster, CircleSnapshot, Invite,
                    Joining, Member, OwnShare, Peer, PlanParts)
from .views import Followup

__all__ = ["CallAcceptResult", "CallClaimResult", "CallCreateResult", "CallOfferResult", "CallReleaseResult",
           "CallResolveResult", "CallShowResult", "CallUpdateResult", "CallsListResult",
           "CheckinCreateResult", "CheckinListResult", "CheckinReplyResult", "CheckinShowResult",
           "CircleCreateResult", "CircleInviteResult", "CircleInvitesResult", "CircleJoinResult",
           "CircleLeaveResult", "CircleListResult", "CircleMembersResult", "CircleRemoveResult",
           "CircleRevokeResult", "CircleRoleResult", "CircleVerifyResult", "PeersResult", "PlanEditResult",
           "PlanRetractResult", "PlanShareResult", "PlanShowResult", "PresenceSetResult", "RESULTS",
           "RenameResult", "Result", "BoardSetResult", "NeedCreateResult", "NeedDoneResult",
           "NeedListResult", "NeedReleaseResult", "NeedTakeResult", "RosterResult", "SnapshotResult", "StatusResult", "SubscribeResult"]


# --- the node -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusResult(Result):
    """What the daemon is doing (`meshcare status --json` prints it)."""

    OP: ClassVar[str] = n.OP_STATUS
    WHAT: ClassVar[str] = "the status"
    node_id: str = key(ID, "this node's id")
    name: str = key(TEXT, "this node's name")
    listen: str = key(TEXT, "host:port it accepts links on")
    uptime_s: float = key(Number(None, None), "seconds since the daemon started")
    links: int = key(COUNT, "links open now")
    envelopes: int = key(COUNT, "envelopes in the store")
    topics: int = key(COUNT, "test topics joined by secret (circles are not counted here)")
    statistics: dict[str, Any] = key(Plain("map of counters (their names are not a contract)"),
                                     "counters for diagnosis (docs/cli.md names the ones that matter)")
    wire_bytes_in: int | None = key(Maybe(COUNT), "ciphertext bytes received over links", omit_none=True)
    wire_bytes_out: int | None = key(Maybe(COUNT), "ciphertext bytes sent over links", omit_none=True)
    profile: str | None = key(Maybe(TEXT), "memory profile: small (a 512 MB board) or standard", omit_none=True)
    disk_full: str | None = key(Maybe(TEXT), "null while writes work; when the disk holding the data dir is "
                                "full: since when and what to free, in words (the daemon keeps running and "
                                "writes again by itself once there is room)", default=None)
    tor: TorStatus | None = key(Maybe(View(TorStatus)), "null when Tor is off (no `--tor`); else tor's control "
                                "port, SOCKS port, connection, bootstrap, this node's onion address, whether it is "
                                "published, and what is wrong in words", default=None)
    links_direct: int = key(COUNT, "links open now over the LAN or a direct address", default=0)
    links_onion: int = key(COUNT, "links open now through Tor onion services", default=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeersResult(Result):
    """The nodes the daemon knows."""

    OP: ClassVar[str] = n.OP_PEERS
    WHAT: ClassVar[str] = "the peers"
    peers: tuple[Peer, ...] = key(Seq(View(Peer), item_noun="peer"), "linked peers first, then known addresses")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeResult(Result):
    """Nothing: events follow on this connection."""

    OP: ClassVar[str] = n.OP_SUBSCRIBE
    WHAT: ClassVar[str] = "the subscription"


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotResult(Result):
    """Everything a client shows, in one answer: this node, its circles (members, availability, invites,
    sync state), its requests to join, the calls and check-ins it can read, this person's plan and
    its shares, and the peers. Each part is what its own op answers for the same state.

    After every (re)connect: send `subscribe`, then `snapshot`, then apply each event whose `seq` is
    greater than the snapshot's `seq` (older ones, already queued on the connection, are in the
    snapshot). Events come in `seq` order and each sets the state of the thing it names (a call's or
    check-in's event carries its whole view), so applying them in order keeps the client's state what
    the daemon shows. Numbers start again at 1 when the daemon restarts: compare an event's `seq` only
    with the snapshot taken on the same connection. After a `join` welcome, take a snapshot again: what
    was in the circle before this node joined is not told one event at a time."""

    OP: ClassVar[str] = n.OP_SNAPSHOT
    WHAT: ClassVar[str] = "the snapshot"
    seq: int = key(COUNT, "the `seq` of the last event the daemon sent before this snapshot (0: none yet)")
    node_id: str = key(ID, "this node's id")
    name: str = key(TEXT, "this node's name")
    circles: tuple[CircleSnapshot, ...] = key(Seq(View(CircleSnapshot), item_noun="circle"),
                                              "by name, as `circle.list` orders them")
    joining: tuple[Joining, ...] = key(Seq(View(Joining), item_noun="join request"), "as `circle.list` answers")
    calls: tuple[Call, ...] = key(Seq(View(Call), item_noun="call"), "as `calls.list` answers (open ones first, "
                                  "newest first; resolved ones only with `all_calls`)")
    checkins: tuple[Checkin, ...] = key(Seq(View(Checkin), item_noun="check-in"), "as `checkin.list` answers")
    plan: PlanParts | None = key(Maybe(View(PlanParts)), "this person's plan, as `plan.show` answers")
    shares: tuple[OwnShare, ...] = key(Seq(View(OwnShare), item_noun="share"), "its live shares, as `plan.show`")
    peers: tuple[Peer, ...] = key(Seq(View(Peer), item_noun="peer"), "as `peers` answers")
    gatherings: tuple[Gathering, ...] = key(Seq(View(Gathering), item_noun="gathering"),
                                            "the gatherings coming up (and under way), as `gathering.list` answers",
                                            default=())
    needs: tuple[Need, ...] = key(Seq(View(Need), item_noun="board item"), "the mutual-aid boards, as "
                                  "`need.list` with `all` answers (a `care.changed` event about `needs` says to "
                                  "read `need.list` again)", default=())
    boards: tuple[Board, ...] = key(Seq(View(Board), item_noun="board"), "each circle's board settings, as "
                                    "`need.list` answers", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameResult(Result):
    """The new name, and the circles told."""

    OP: ClassVar[str] = n.OP_NODE_RENAME
    name: str = key(TEXT, "the name now")
    circles: tuple[str, ...] = key(Seq(CIRCLE_ID), "ids of the circles a rename went to (those where the name "
                                   "was different; none when no circle needed it)")


# --- circles ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleCreateResult(Result):
    """The new circle."""

    OP: ClassVar[str] = n.OP_CIRCLE_CREATE
    circle: Circle = key(View(Circle), "the circle, with this person as its facilitator")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleListResult(Result):
    """This node's circles and its requests to join."""

    OP: ClassVar[str] = n.OP_CIRCLE_LIST
    circles: tuple[Circle, ...] = key(Seq(View(Circle), item_noun="circle"), "by name")
    joining: tuple[Joining, ...] = key(Seq(View(Joining), item_noun="join request"), "requests still waiting or refused")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleInviteResult(Result):
    """A new invite: the token to hand over."""

    OP: ClassVar[str] = n.OP_CIRCLE_INVITE
    circle: str = key(CIRCLE_ID, "the circle's id")
    token: str = key(Text(1), "the invite token (`MC1` + base32) the person joins with")
    invite: str = key(ID, "the invite's id")
    role: str = key(Choice(vocab.ROLES), "what the invited node becomes")
    expires: int = key(WHEN, "when the token stops working")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleInvitesResult(Result):
    """A circle's invites."""

    OP: ClassVar[str] = n.OP_CIRCLE_INVITES
    invites: tuple[Invite, ...] = key(Seq(View(Invite), item_noun="invite"), "by invite id")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRevokeResult(Result):
    """The invite that can no longer be used."""

    OP: ClassVar[str] = n.OP_CIRCLE_REVOKE
    invite: str = key(ID, "the invite's id")
    revoked: bool = key(Flag(), "always true")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleJoinResult(Result):
    """The request to join, sent; a member admits this node when one is online (watch `circle.list`)."""

    OP: ClassVar[str] = n.OP_CIRCLE_JOIN
    circle: str = key(CIRCLE_ID, "the circle's id")
    name: str = key(TEXT, "its name, as the token says")
    status: str = key(Choice(vocab.JOIN_STATUSES[:1]), "`waiting` (`circle.list` shows when it went through or was refused)")
    expires: int = key(Time(None, None), "when the token expires")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleMembersResult(Result):
    """A circle's members."""

    OP: ClassVar[str] = n.OP_CIRCLE_MEMBERS
    circle: str = key(CIRCLE_ID, "the circle's id")
    name: str = key(TEXT, "its name")
    members: tuple[Member, ...] = key(Seq(View(Member), item_noun="member"), "by name")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRemoveResult(Result):
    """Who was removed."""

    OP: ClassVar[str] = n.OP_CIRCLE_REMOVE
    circle: str = key(CIRCLE_ID, "the circle's id")
    removed: str = key(ID, "the removed member's id")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleLeaveResult(Result):
    """This node left the circle."""

    OP: ClassVar[str] = n.OP_CIRCLE_LEAVE
    circle: str = key(CIRCLE_ID, "the circle's id")
    left: bool = key(Flag(), "always true")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRoleResult(Result):
    """The member's new role."""

    OP: ClassVar[str] = n.OP_CIRCLE_ROLE
    circle: str = key(CIRCLE_ID, "the circle's id")
    member: str = key(ID, "the member's id")
    role: str = key(Choice(vocab.GRANTED_ROLES), "their role now")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleVerifyResult(Result):
    """Both fingerprints, to compare in person, and whether the member is marked verified."""

    OP: ClassVar[str] = n.OP_CIRCLE_VERIFY
    member: str = key(ID, "the member's id")
    name: str = key(TEXT, "their name")
    their_fingerprint: str = key(TEXT, "their fingerprint")
    my_fingerprint: str = key(TEXT, "this node's fingerprint")
    verified: bool = key(Flag(), "marked verified on this node")


# --- calls --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCreateResult(Result):
    """The call, as it went out."""

    OP: ClassVar[str] = n.OP_CALL_CREATE
    call: Call = key(View(Call), "the new call")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallsListResult(Result):
    """Calls this node can read."""

    OP: ClassVar[str] = n.OP_CALLS_LIST
    calls: tuple[Call, ...] = key(Seq(View(Call), item_noun="call"), "open ones first, newest first")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallShowResult(Result):
    """One call."""

    OP: ClassVar[str] = n.OP_CALL_SHOW
    call: Call = key(View(Call), "the call")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOfferResult(Result):
    """The offer posted."""

    OP: ClassVar[str] = n.OP_CALL_OFFER
    id: str = key(ID, "the offer's id")
    call: Call = key(View(Call), "the call as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallClaimResult(Result):
    """The claim posted, and whether this node holds the call (in a race, the first claim in the
    circle's order wins on every node)."""

    OP: ClassVar[str] = n.OP_CALL_CLAIM
    id: str = key(ID, "the claim's id")
    call: Call = key(View(Call), "the call as it is now")
    have_it: bool = key(Flag(), "this person has the call; false: `call.claimer` does")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallReleaseResult(Result):
    """The release posted."""

    OP: ClassVar[str] = n.OP_CALL_RELEASE
    id: str = key(ID, "the release's id")
    call: Call = key(View(Call), "the call as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAcceptResult(Result):
    """The acceptance posted."""

    OP: ClassVar[str] = n.OP_CALL_ACCEPT
    id: str = key(ID, "the acceptance's id")
    call: Call = key(View(Call), "the call as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUpdateResult(Result):
    """The update posted."""

    OP: ClassVar[str] = n.OP_CALL_UPDATE
    id: str = key(ID, "the update's id")
    call: Call = key(View(Call), "the call as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResolveResult(Result):
    """The resolve posted, or nothing when the call already was resolved."""

    OP: ClassVar[str] = n.OP_CALL_RESOLVE
    id: str | None = key(Maybe(ID), "the resolve's id; null when it already was resolved")
    already_resolved: bool = key(Flag(), "nothing was posted: `call.resolved_by` resolved it before")
    call: Call = key(View(Call), "the call as it is now")
    linked: int | None = _linked()
    followup: Followup | None = key(Maybe(View(Followup)), "the follow-up the caller asked for with it "
                                    "(`followup_by`), else null", default=None)


# --- check-ins ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinCreateResult(Result):
    """The check-in, as it went out."""

    OP: ClassVar[str] = n.OP_CHECKIN_CREATE
    checkin: Checkin = key(View(Checkin), "the new check-in")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinReplyResult(Result):
    """The answer posted."""

    OP: ClassVar[str] = n.OP_CHECKIN_REPLY
    id: str = key(ID, "the reply's id")
    checkin: Checkin = key(View(Checkin), "the check-in as it is now")
    option: str = key(TEXT, "the text of the chosen answer")
    suggest_call: bool = key(Flag(), f"the answer was \"{vocab.SUGGEST_CALL_OPTION}\": offer to start a call")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinShowResult(Result):
    """One check-in."""

    OP: ClassVar[str] = n.OP_CHECKIN_SHOW
    checkin: Checkin = key(View(Checkin), "the check-in")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinListResult(Result):
    """Every check-in this node can read."""

    OP: ClassVar[str] = n.OP_CHECKIN_LIST
    checkins: tuple[Checkin, ...] = key(Seq(View(Checkin), item_noun="check-in"), "newest first")


# --- availability -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceSetResult(Result):
    """What was said, and to which circles."""

    OP: ClassVar[str] = n.OP_PRESENCE_SET
    status: str = key(Choice(vocab.PRESENCE_STATUSES), "as asked")
    until: int | None = key(Maybe(WHEN), f"as asked (null: {vocab.DEFAULT_PRESENCE_S // 3600} hours from now)")
    cap: int | None = key(Maybe(Int(1, vocab.MAX_PRESENCE_CAP)), "as asked")
    circles: tuple[str, ...] = key(Seq(CIRCLE_ID), "ids of the circles told")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterResult(Result):
    """Who is available, per circle."""

    OP: ClassVar[str] = n.OP_ROSTER
    circles: tuple[CircleRoster, ...] = key(Seq(View(CircleRoster), item_noun="circle"), "one per circle asked about")


# --- support plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShowResult(Result):
    """This person's plan and where it is shared."""

    OP: ClassVar[str] = n.OP_PLAN_SHOW
    plan: PlanParts | None = key(Maybe(View(PlanParts)), "the plan, null when none was written")
    shares: tuple[OwnShare, ...] = key(Seq(View(OwnShare), item_noun="share"), "live shares of it")
    review_due: bool = key(Flag(), "the plan's review date has passed: time to ask \"is it still right?\"",
                           default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEditResult(Result):
    """The plan as saved."""

    OP: ClassVar[str] = n.OP_PLAN_EDIT
    plan: PlanParts = key(View(PlanParts), "every section")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShareResult(Result):
    """The share posted."""

    OP: ClassVar[str] = n.OP_PLAN_SHARE
    share: str = key(ID, "the share's id (name it in `plan.retract`)")
    circle: str = key(CIRCLE_ID, "the circle it went to")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRetractResult(Result):
    """The share taken back."""

    OP: ClassVar[str] = n.OP_PLAN_RETRACT
    retracted: str = key(ID, "the share's id")
    id: str = key(ID, "the retraction's id")


from .results_ladders import LADDER_RESULTS  # noqa: E402  (built on Result, above)
from .results_backup import RESULTS_BACKUP  # noqa: E402
from .results_mailbox import RESULTS_MAILBOX  # noqa: E402  (mailboxes: issue 15)
from .results_reach import RESULTS_REACH  # noqa: E402  (onion addresses: issue 15)
from .results_care import (FollowupAskResult, FollowupDoneResult, FollowupListResult, LoadResult,  # noqa: E402
                           SafetyListResult, SafetyPingResult, SafetyStartResult)

__all__ += ["NodeHealthResult"]

_ALL: Final[tuple[type[Result], ...]] = (
    StatusResult, PeersResult, SubscribeResult, SnapshotResult, RenameResult,
    CircleCreateResult, CircleListResult, CircleInviteResult, CircleInvitesResult, CircleRevokeResult,
    CircleJoinResult, CircleMembersResult, CircleRemoveResult, CircleLeaveResult, CircleRoleResult,
    CircleVerifyResult,
    CallCreateResult, CallsListResult, CallShowResult, CallOfferResult, CallClaimResult, CallReleaseResult,
    CallAcceptResult, CallUpdateResult, CallResolveResult,
    CheckinCreateResult, CheckinReplyResult, CheckinShowResult, CheckinListResult,
    PresenceSetResult, RosterResult,
    PlanShowResult, PlanEditResult, PlanShareResult, PlanRetractResult,
    *RESULTS_GATHERINGS, *LADDER_RESULTS, *RESULTS_REQUESTS,
    FollowupAskResult, FollowupDoneResult, FollowupListResult, SafetyStartResult, SafetyPingResult,
    SafetyListResult, LoadResult,
    NeedCreateResult, NeedListResult, NeedTakeResult, NeedReleaseResult, NeedDoneResult, BoardSetResult,
    NodeHealthResult, *RESULTS_BACKUP, *RESULTS_RECOVERY, *RESULTS_REACH, *RESULTS_MAILBOX)

#: Op name -> the class of its result.
RESULTS: Final[Mapping[str, type[Result]]] = {cls.OP: cls for cls in _ALL}
