"""What a client may ask the daemon: one typed request per operation, ``REQUESTS`` maps op name -> class.

A request's fields are the op's arguments, with the defaults the daemon applies when one is left out;
``from_data`` accepts what the daemon accepted before this API existed (names or id prefixes where a
person types them, a member's 32-byte id on a ladder, null for "not given"), and checks each argument's
type and bounds (``schema``). What needs the node's state (does that circle exist, is this person a
facilitator, is the call resolved) is the daemon's to check; ``ERRORS`` lists those refusals for the docs.

References: a **circle** is named by its name or the start of its id; a **member** by their name in that
circle or the start of their id; a **call**, **check-in**, **offer**, **invite** or **share** by at least
``vocab.MIN_ID_PREFIX`` hex digits of its id. The daemon says when a reference matches several
(``request_base`` holds those references, the refusals many ops share, and the ``Request`` base).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from .. import vocab
from ..errors import BadInput
from . import names as n
from . import results as r
from .names import BAD_REQUEST, NOT_FOUND
from .requests_board import BoardSet, NeedCreate, NeedDone, NeedList, NeedRelease, NeedTake
from .request_base import (CIRCLE_REF, id_ref, MEMBER_REF, NAME, NO_CALL, NO_CHECKIN, NO_CIRCLE, NO_MEMBER, RESOLVED,
                           Request, call_arg, circle_arg)
from .requests_gatherings import REQUESTS_GATHERINGS
from .requests_requests import REQUESTS_REQUESTS
from .requests_recovery import REQUESTS_RECOVERY
from .schema import Choice, Either, Flag, Int, Map, Maybe, Number, Record, Seq, Text, Time, View, arg
from .requests_doctor import NodeHealth
from .requests_care import FollowupAsk, FollowupDone, FollowupList, Load, SafetyList, SafetyPing, SafetyStart

__all__ = ["BoardSet", "NeedCreate", "NeedDone", "NeedList", "NeedRelease", "NeedTake", "CallAccept", "CallClaim", "CallCreate", "CallOffer", "CallRelease", "CallResolve", "CallShow",
           "CallUpdate", "CallsList", "CheckinCreate", "CheckinList", "CheckinReply", "CheckinShow",
           "CircleCreate", "CircleInvite", "CircleInvites", "CircleJoin", "CircleLeave", "CircleList",
           "CircleMembers", "CircleRemove", "CircleRevoke", "CircleRole", "CircleVerify", "LadderStepArg",
           "Peers", "PlanEdit", "PlanRetract", "PlanShare", "PlanShow", "PresenceSet", "REQUESTS",
           "Rename", "Request", "Roster", "Snapshot", "Status", "Subscribe"]


# --- the node -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Status(Request[r.StatusResult]):
    """What the daemon is doing: links, envelopes, uptime, counters."""

    OP = n.OP_STATUS


@dataclass(frozen=True, slots=True, kw_only=True)
class Peers(Request[r.PeersResult]):
    """The nodes the daemon knows and whether a link to each is open."""

    OP = n.OP_PEERS


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Request[r.SubscribeResult]):
    """Open the event stream on this connection (once per connection)."""

    OP = n.OP_SUBSCRIBE
    ERRORS = ((BAD_REQUEST, "this connection already subscribed"),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot(Request[r.SnapshotResult]):
    """Everything a client shows, in one answer: take one right after `subscribe`, on every (re)connect."""

    OP = n.OP_SNAPSHOT
    ERRORS = (NO_CIRCLE,)
    circle: str | None = arg(Maybe(CIRCLE_REF), "only this circle (null: every circle)", noun="the circle",
                             default=None)
    all_calls: bool = arg(Flag(), "resolved calls too", noun="all_calls", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rename(Request[r.RenameResult]):
    """Change this person's name: the node's own (what new circles get) and their name in every circle
    they are in (a `rename` roster operation each; their circles show it as a `member` event, `renamed`)."""

    OP = n.OP_NODE_RENAME
    ERRORS = ((BAD_REQUEST, "someone else in one of the circles has or had that name (the message says which); "
                            "the name holds control characters; renamed too often in a circle"),)
    name: str = arg(NAME, "the new name, as the circles will see it", noun="the new name")


# --- circles ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleCreate(Request[r.CircleCreateResult]):
    """Found a circle; this person becomes its first facilitator."""

    OP = n.OP_CIRCLE_CREATE
    ERRORS = (
        (BAD_REQUEST, "this node already has a circle of that name; a name holds control characters"),)
    name: str = arg(NAME, "the circle's name, as members will see it", noun="the circle's name")
    member_name: str | None = arg(Maybe(NAME), "this person's name in the circle (null: the node's name)",
                                  noun="your name in the circle", default=None)
    retention_days: int = arg(Int(vocab.MIN_RETENTION_DAYS, vocab.MAX_RETENTION_DAYS),
                              "days calls and posts are kept", noun="the retention in days",
                              default=vocab.DEFAULT_RETENTION_DAYS)
    rotate_days: int = arg(Int(0, vocab.MAX_ROTATE_DAYS), "days between key rotations (0: only when the "
                           "membership changes)", noun="the days between key rotations",
                           default=vocab.DEFAULT_ROTATE_DAYS)
    share_history: bool = arg(Flag(), "new members can read what was said before they joined",
                              noun="share_history", default=False)
    members_invite: bool = arg(Flag(), "members, not only facilitators, may invite", noun="members_invite",
                               default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleList(Request[r.CircleListResult]):
    """This node's circles, and its requests to join that still wait or were refused."""

    OP = n.OP_CIRCLE_LIST


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleInvite(Request[r.CircleInviteResult]):
    """Make an invite token for one person; it works once, until it expires."""

    OP = n.OP_CIRCLE_INVITE
    ERRORS = (
        NO_CIRCLE,
        (BAD_REQUEST, f"the circle already has {vocab.MAX_OPEN_INVITES} open invites (revoke one or let one "
                      "expire); this person may not invite (members invite only if the circle allows it)"))
    circle: str = circle_arg()
    role: str = arg(Choice(vocab.ROLES), "what the invited node becomes", noun="the role", default="member")
    valid_hours: float = arg(Number(0, vocab.MAX_INVITE_HOURS, lo_open=True), "how long the token works",
                             noun="how long the invite is valid, in hours", default=vocab.DEFAULT_INVITE_HOURS)


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleInvites(Request[r.CircleInvitesResult]):
    """A circle's invites: open, used, expired or revoked."""

    OP = n.OP_CIRCLE_INVITES
    ERRORS = (NO_CIRCLE,)
    circle: str = circle_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRevoke(Request[r.CircleRevokeResult]):
    """Withdraw an invite so nobody can join with it."""

    OP = n.OP_CIRCLE_REVOKE
    ERRORS = (
        NO_CIRCLE, (NOT_FOUND, "no single invite of the circle starts with that"),
        (BAD_REQUEST, "this person may not revoke invites"))
    circle: str = circle_arg()
    invite: str = arg(id_ref("`meshcare circle invites CIRCLE` lists them"), "the invite: the start of its id", noun="the invite")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleJoin(Request[r.CircleJoinResult]):
    """Ask to join a circle with an invite token; a member's node admits this one when it is online."""

    OP = n.OP_CIRCLE_JOIN
    ERRORS = (
        (BAD_REQUEST, "the token is not a meshcare token, is damaged, or is from another version; the name "
                      "holds control characters; this node is already in that circle"),)
    token: str = arg(Text(1, vocab.MAX_TOKEN), "the invite token (`MC1`...; spaces and line breaks do not matter)",
                     noun="the invite token")
    name: str | None = arg(Maybe(NAME), "this person's name in the circle (null: the node's name)",
                           noun="your name in the circle", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleMembers(Request[r.CircleMembersResult]):
    """A circle's members: role, availability, verified or not."""

    OP = n.OP_CIRCLE_MEMBERS
    ERRORS = (NO_CIRCLE,)
    circle: str = circle_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRemove(Request[r.CircleRemoveResult]):
    """Remove someone from a circle (facilitators); the circle moves to keys they do not get."""

    OP = n.OP_CIRCLE_REMOVE
    ERRORS = (
        NO_CIRCLE, NO_MEMBER,
        (BAD_REQUEST, "this person is not a facilitator; the member is this person (use `circle.leave`)"))
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who: their name in the circle or the start of their id", noun="the member")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleLeave(Request[r.CircleLeaveResult]):
    """Leave a circle."""

    OP = n.OP_CIRCLE_LEAVE
    ERRORS = (
        NO_CIRCLE, (BAD_REQUEST, "this node is not a member of that circle"))
    circle: str = circle_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRole(Request[r.CircleRoleResult]):
    """Make someone a facilitator, or a member again (facilitators)."""

    OP = n.OP_CIRCLE_ROLE
    ERRORS = (
        NO_CIRCLE, NO_MEMBER, (BAD_REQUEST, "this person is not a facilitator"))
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who: their name in the circle or the start of their id", noun="the member")
    role: str = arg(Choice(vocab.GRANTED_ROLES), "their new role", noun="the role")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleVerify(Request[r.CircleVerifyResult]):
    """Show a member's fingerprint and this node's, to compare in person; optionally mark them verified
    (kept on this node only). Neither flag: only show."""

    OP = n.OP_CIRCLE_VERIFY
    ERRORS = (NO_CIRCLE, NO_MEMBER)
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who: their name in the circle or the start of their id", noun="the member")
    confirm: bool = arg(Flag(), "the numbers match: mark them verified", noun="confirm", default=False)
    unverify: bool = arg(Flag(), "take the mark away (ignored with `confirm`)", noun="unverify", default=False)


# --- calls --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderStepArg(Record):
    """A step of the ladder a caller approves: who hears the call, and how long after it was made.

    The daemon checks the ladder as a whole: the first step goes out at once (``after`` 0), each later
    step comes later than the one before, a step to ``chosen`` names members and the others name none.
    """

    WHAT: ClassVar[str] = "a ladder step"
    after: int = arg(Int(0, vocab.MAX_LADDER_AFTER), "minutes after the call", noun="the minutes", default=0)
    to: str = arg(Choice(vocab.LADDER_TARGETS), "who hears at this step", noun="who hears", default="circle")
    members: tuple[str, ...] = arg(Seq(MEMBER_REF, 0, vocab.MAX_STEP_MEMBERS, distinct=True, item_noun="chosen member"),
                                  "the chosen members (names, starts of ids, or ids), only for `chosen`",
                                  noun="the chosen members", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCreate(Request[r.CallCreateResult]):
    """Ask a circle for support."""

    OP = n.OP_CALL_CREATE
    ERRORS = (
        NO_CIRCLE, (NOT_FOUND, "a member named on the ladder is not in the circle"),
        (BAD_REQUEST, "`ladder_name` names a ladder with nobody who accepted (and no `ladder_then`), or comes "
                      "with `ladder`; a member named on the ladder is on this person's \"who not to involve\" list"),
        (BAD_REQUEST, "the ladder breaks a rule (see LadderStepArg); text that is blank once control "
                      "characters are removed"))
    circle: str = circle_arg()
    text: str = arg(Text(1, vocab.MAX_CALL_TEXT), "what is going on, in the caller's words", noun="the call's text")
    urgency: str = arg(Choice(vocab.URGENCIES), "how soon", noun="the urgency", default=vocab.DEFAULT_URGENCY)
    needs: tuple[str, ...] = arg(Seq(Choice(vocab.NEEDS), distinct=True, item_noun="need"), "what would help",
                                 noun="the needs", default=())
    reach: str | None = arg(Maybe(Text(0, vocab.MAX_REACH)), "how to reach the caller", noun="how to reach you",
                            default=None)
    consent: tuple[str, ...] = arg(Seq(Choice(vocab.CONSENTS), distinct=True, item_noun="wish"),
                                   "the caller's wishes for how others act", noun="the wishes", default=())
    consent_note: str | None = arg(Maybe(Text(0, vocab.MAX_CONSENT_NOTE)), "anything else about those wishes",
                                   noun="the note about your wishes", default=None)
    ladder: tuple[LadderStepArg, ...] = arg(
        Seq(View(LadderStepArg), 0, vocab.MAX_LADDER_STEPS, item_noun="ladder step"),
        "who hears first and who later (none: the whole circle at once)", noun="the ladder", default=())
    ladder_name: str | None = arg(
        Maybe(Text(1, vocab.MAX_LADDER_NAME, strip=True)),
        "build the ladder from this person's ladder of that name instead: its accepted rungs only, step by step "
        "(pending and declined rungs are never used); not with `ladder`", noun="the ladder's name", default=None)
    ladder_every: int = arg(Int(1, vocab.MAX_LADDER_AFTER // vocab.MAX_LADDER_STEPS),
                            "with `ladder_name`: minutes between its steps", noun="the minutes between steps",
                            default=vocab.DEFAULT_LADDER_EVERY)
    ladder_then: str | None = arg(Maybe(Choice(vocab.LADDER_THEN)),
                                  "with `ladder_name`: where the call goes after the ladder's last step "
                                  "(null: nowhere)", noun="where it goes then", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallsList(Request[r.CallsListResult]):
    """Calls this node can read: open ones first, newest first."""

    OP = n.OP_CALLS_LIST
    ERRORS = (NO_CIRCLE,)
    all: bool = arg(Flag(), "resolved calls too", noun="all", default=False)
    circle: str | None = arg(Maybe(CIRCLE_REF), "only this circle (null: every circle)", noun="the circle",
                             default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallShow(Request[r.CallShowResult]):
    """One call: offers, updates, who it reached, shared plans."""

    OP = n.OP_CALL_SHOW
    ERRORS = (NO_CALL,)
    call: str = call_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffer(Request[r.CallOfferResult]):
    """Offer support in a call's thread."""

    OP = n.OP_CALL_OFFER
    ERRORS = (
        NO_CALL, (BAD_REQUEST, "it is this person's own call"), RESOLVED)
    call: str = call_arg()
    kind: str = arg(Choice(vocab.OFFER_KINDS), "what is offered (`vocab.OFFER_WORDS` has the words)",
                    noun="the kind of offer")
    text: str = arg(Text(0, vocab.MAX_OFFER_TEXT), "a few words, e.g. when", noun="the offer's text", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallClaim(Request[r.CallClaimResult]):
    """Say this person has the call, so the circle sees someone is on it."""

    OP = n.OP_CALL_CLAIM
    ERRORS = (
        NO_CALL, (BAD_REQUEST, "it is this person's own call; someone else already has it"), RESOLVED)
    call: str = call_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRelease(Request[r.CallReleaseResult]):
    """Let go of a call this person claimed."""

    OP = n.OP_CALL_RELEASE
    ERRORS = (
        NO_CALL, (BAD_REQUEST, "this person has not claimed the call"), RESOLVED)
    call: str = call_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAccept(Request[r.CallAcceptResult]):
    """Accept an offer in this person's own call."""

    OP = n.OP_CALL_ACCEPT
    ERRORS = (
        NO_CALL, (BAD_REQUEST, "it is not this person's call"),
        (NOT_FOUND, "no single offer of the call starts with that"), RESOLVED)
    call: str = call_arg()
    offer: str = arg(id_ref("`meshcare call show CALL` lists them"), "the offer: the start of its id", noun="the offer")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUpdate(Request[r.CallUpdateResult]):
    """Post news in a call's thread."""

    OP = n.OP_CALL_UPDATE
    ERRORS = (NO_CALL, RESOLVED)
    call: str = call_arg()
    text: str = arg(Text(1, vocab.MAX_UPDATE_TEXT), "the update", noun="the update's text")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResolve(Request[r.CallResolveResult]):
    """Mark a call resolved (its caller, whoever has it, or a facilitator), optionally with a follow-up
    check-in later. A resolved call is not resolved again: the answer says so."""

    OP = n.OP_CALL_RESOLVE
    ERRORS = (
        NO_CALL, (BAD_REQUEST, "this person is not the caller, the claimer or a facilitator; the follow-up "
                                "time is not in the future"))
    call: str = call_arg()
    followup_at: int | None = arg(Maybe(Time()), "when to send a follow-up check-in (null: none)",
                                  noun="the follow-up time", default=None)
    followup_by: str | None = arg(Maybe(MEMBER_REF), "the caller only: who checks in on them afterwards "
                                  "(`followup.ask`; null: no follow-up asked now)", noun="who checks in",
                                  default=None, omit_none=True)
    followup_due: int | None = arg(Maybe(Time()), "with `followup_by`: when (null: a day from now)",
                                   noun="the check-in time", default=None, omit_none=True)
    followup_again: int | None = arg(Maybe(Time()), "with `followup_by`: a second check-in 3 to 7 days later",
                                     noun="the second check-in time", default=None, omit_none=True)


# --- check-ins ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinCreate(Request[r.CheckinCreateResult]):
    """Ask the circle how they are doing (facilitators)."""

    OP = n.OP_CHECKIN_CREATE
    ERRORS = (
        NO_CIRCLE, (BAD_REQUEST, "this person is not a facilitator; an answer is blank once control "
                                  "characters are removed"))
    circle: str = circle_arg()
    prompt: str = arg(Text(1, vocab.MAX_PROMPT), "the question", noun="the question")
    options: tuple[str, ...] = arg(
        Seq(Text(1, vocab.MAX_OPTION_TEXT), vocab.MIN_OPTIONS, vocab.MAX_OPTIONS, distinct=True, or_empty=True,
            item_noun="answer"),
        "the possible answers (none: " + "; ".join(vocab.DEFAULT_OPTIONS) + ")", noun="the answers", default=())
    visibility: str = arg(Choice(vocab.CHECKIN_VISIBILITY), "who sees the answers", noun="who sees the answers",
                          default=vocab.DEFAULT_VISIBILITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinReply(Request[r.CheckinReplyResult]):
    """Answer a check-in (a later answer replaces an earlier one)."""

    OP = n.OP_CHECKIN_REPLY
    ERRORS = (
        NO_CHECKIN, (BAD_REQUEST, "the option matches none or several of the answers, or its number is past "
                                   "the last answer (the message lists them)"))
    checkin: str = arg(id_ref("`meshcare checkins` lists them"), "the check-in: the start of its id", noun="the check-in")
    option: int | str = arg(Either((Int(1, vocab.MAX_OPTIONS), Text(1, vocab.MAX_REF))),
                            "the answer: its number (1, 2, ...), as a number or digits, or the start of its text",
                            noun="the answer")
    text: str = arg(Text(0, vocab.MAX_REPLY_TEXT), "a few words, if they like", noun="the reply's text",
                    default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinShow(Request[r.CheckinShowResult]):
    """One check-in: its answers so far and who has not answered."""

    OP = n.OP_CHECKIN_SHOW
    ERRORS = (NO_CHECKIN,)
    checkin: str = arg(id_ref("`meshcare checkins` lists them"), "the check-in: the start of its id", noun="the check-in")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinList(Request[r.CheckinListResult]):
    """Every check-in this node can read, newest first."""

    OP = n.OP_CHECKIN_LIST


# --- availability -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceSet(Request[r.PresenceSetResult]):
    """Tell this person's circles (or one) that they are available to help, or away. It ends by itself:
    at ``until``, or after 12 hours."""

    OP = n.OP_PRESENCE_SET
    ERRORS = (NO_CIRCLE, (NOT_FOUND, "this node is in no circle yet"))
    status: str = arg(Choice(vocab.PRESENCE_STATUSES), "available or away", noun="the status")
    until: int | None = arg(Maybe(Time()), f"until when (null: {vocab.DEFAULT_PRESENCE_S // 3600} hours)",
                            noun="the end time", default=None)
    cap: int | None = arg(Maybe(Int(1, vocab.MAX_PRESENCE_CAP)), "at most this many calls at a time (null: no cap)",
                          noun="the most calls at a time", default=None)
    circle: str | None = arg(Maybe(Text(0, vocab.MAX_REF)), "only this circle (null or empty: every circle this "
                             "person is a member or facilitator of)", noun="the circle", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Roster(Request[r.RosterResult]):
    """Who is available, per circle."""

    OP = n.OP_ROSTER
    ERRORS = (NO_CIRCLE,)
    circle: str | None = arg(Maybe(Text(0, vocab.MAX_REF)), "only this circle (null or empty: every circle)",
                             noun="the circle", default=None)


# --- support plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShow(Request[r.PlanShowResult]):
    """This person's support plan and where it is shared."""

    OP = n.OP_PLAN_SHOW


def _part(words: str) -> Any:
    return arg(Maybe(Text(0, vocab.MAX_PLAN_FIELD)), f"{words} (null: unchanged; empty text clears it)",
               noun=f"the plan's '{words}' part", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEdit(Request[r.PlanEditResult]):
    """Write or change parts of this person's support plan (kept on this node until shared)."""

    OP = n.OP_PLAN_EDIT
    ERRORS = ((BAD_REQUEST, "a section given twice with different texts; a review date that is not a "
                            f"YYYY-MM-DD date; a plan over {vocab.MAX_PLAN_TOTAL} characters in all"),)
    helps: str | None = _part("what helps")
    avoid: str | None = _part("what to avoid")
    contact: str | None = _part("who to contact, and how")
    other: str | None = _part("anything else")
    sections: Mapping[str, str] | None = arg(
        Maybe(Map(Choice(vocab.PLAN_FIELDS), Text(0, vocab.MAX_PLAN_FIELD))),
        "sections to write, by key (`vocab.PLAN_FIELDS`; `review_by` a date YYYY-MM-DD); empty text clears "
        "one; the others stay (null: none)", noun="the plan's sections", default=None)

    def check_rules(self) -> None:
        for key, text in (self.sections or {}).items():
            given = getattr(self, key, None) if key in _NAMED_PARTS else None
            if given is not None and given != text:
                words = {"helps": "what helps", "avoid": "what to avoid", "contact": "who to contact, and how",
                         "other": "anything else"}[key]
                raise BadInput(f"the plan's '{words}' part is given twice (as {key!r} and in the sections), "
                               "with different texts; give it once")

    def changes(self) -> dict[str, str]:
        """Every section this request writes (key -> text), the named parts and ``sections`` together."""
        named = {key: getattr(self, key) for key in _NAMED_PARTS if getattr(self, key) is not None}
        return {**named, **(self.sections or {})}


#: The parts ``plan.edit`` has taken by name since the plan had four.
_NAMED_PARTS: Final = ("helps", "avoid", "contact", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShare(Request[r.PlanShareResult]):
    """Share the plan with whoever has one of this person's calls, or with everyone in a circle. One of
    ``call`` and ``circle`` (``call`` wins when both are given)."""

    OP = n.OP_PLAN_SHARE
    ERRORS = (
        NO_CIRCLE, NO_CALL,
        (BAD_REQUEST, "there is no plan yet; the call is not this person's; nobody has the call yet; the "
                      "sections to share are all empty"))
    call: str | None = arg(Maybe(Text(0, vocab.MAX_REF)), "this person's call (the start of its id): goes to "
                           "whoever has it", noun="the call", default=None)
    circle: str | None = arg(Maybe(CIRCLE_REF), "a circle: goes to everyone in it", noun="the circle", default=None)
    sections: tuple[str, ...] | None = arg(
        Maybe(Seq(Choice(vocab.PLAN_FIELDS), 1, len(vocab.PLAN_FIELDS), distinct=True, item_noun="section")),
        "share only these sections (keys of `vocab.PLAN_FIELDS`); null: every section that holds something",
        noun="the sections to share", default=None)

    def check_rules(self) -> None:
        if not self.call and self.circle is None:
            raise BadInput("say whom to share the plan with: the call (one of yours) or the circle")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRetract(Request[r.PlanRetractResult]):
    """Take back a share of the plan; members' nodes forget it."""

    OP = n.OP_PLAN_RETRACT
    ERRORS = ((NOT_FOUND, "no share of this person's plan starts with that"),)
    share: str = arg(id_ref("`meshcare plan show` lists them"), "the share: the start of its id", noun="the share")


from .requests_ladders import LADDER_REQUESTS  # noqa: E402  (ladders and avoid lists: issue 13)
from .requests_backup import REQUESTS_BACKUP  # noqa: E402  (backups: issue 14)
from .requests_mailbox import REQUESTS_MAILBOX  # noqa: E402  (mailboxes: issue 15)
from .requests_reach import REQUESTS_REACH  # noqa: E402  (onion addresses: issue 15)

__all__ += ["NodeHealth"]

_ALL: Final[tuple[type[Request[Any]], ...]] = (
    Status, Peers, Subscribe, Snapshot, Rename,
    CircleCreate, CircleList, CircleInvite, CircleInvites, CircleRevoke, CircleJoin, CircleMembers, CircleRemove,
    CircleLeave, CircleRole, CircleVerify,
    CallCreate, CallsList, CallShow, CallOffer, CallClaim, CallRelease, CallAccept, CallUpdate, CallResolve,
    CheckinCreate, CheckinReply, CheckinShow, CheckinList,
    PresenceSet, Roster,
    PlanShow, PlanEdit, PlanShare, PlanRetract,
    *REQUESTS_GATHERINGS, *LADDER_REQUESTS, *REQUESTS_REQUESTS,
    FollowupAsk, FollowupDone, FollowupList, SafetyStart, SafetyPing, SafetyList, Load,
    NeedCreate, NeedList, NeedTake, NeedRelease, NeedDone, BoardSet,
    NodeHealth, *REQUESTS_BACKUP, *REQUESTS_RECOVERY, *REQUESTS_REACH, *REQUESTS_MAILBOX)

#: Op name -> the class of its request.
REQUESTS: Final[Mapping[str, type[Request[Any]]]] = {cls.OP: cls for cls in _ALL}
