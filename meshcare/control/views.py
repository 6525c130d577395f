"""The things results and events show, as typed records: a call, a check-in, a circle, a member, ...

Each view is what one JSON object of a result holds, field for field (``schema`` explains how fields are
declared, read and written). Ids are lowercase hex text: circle ids 32 digits (``CIRCLE_ID``), member,
call, post, invite and share ids 64 (``ID``). Times are unix seconds. ``names`` maps give the display
name of the people a record mentions (people who left or were removed keep the name they had).

The daemon builds these from its folded state; the CLI and the TUI read them. They are the documented
shape of docs/control.md's "Views" section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from .. import vocab
from .schema import Choice, Flag, Hex, Int, Map, Maybe, Number, Record, Seq, Text, Time, View, key
from .views_board import Board, Need

__all__ = ["Board", "Call", "Checkin", "Circle", "CircleRoster", "CircleSettings", "CircleSnapshot", "Invite", "Joining",
           "LadderStep", "Member", "Need", "Offer", "OwnShare", "Peer", "PlanParts", "Reader", "Reply", "RosterRow",
           "Share", "Update", "caller_wishes",
           "VIEWS", "Followup", "Timer"]

#: A member, call, post, invite or share id.
ID: Final = Hex(32)
#: A circle id (the circle's topic).
CIRCLE_ID: Final = Hex(16)
#: A display name or other text someone wrote (bounded where it was written).
TEXT: Final = Text()
COUNT: Final = Int(0)
WHEN: Final = Time()
NAMES: Final = Map(ID, TEXT)



@dataclass(frozen=True, slots=True, kw_only=True)
class LadderStep(Record):
    """One step of a call's ladder: where the call goes ``after`` minutes without anyone on it."""

    WHAT: ClassVar[str] = "a ladder step"
    after: int = key(Int(0, vocab.MAX_LADDER_AFTER), "minutes after the call was made (0: at once)")
    to: str = key(Choice(vocab.LADDER_TARGETS), "who hears at this step")
    members: tuple[str, ...] = key(Seq(ID), "the members chosen (only when `to` is `chosen`)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer(Record):
    """An offer of support in a call's thread."""

    WHAT: ClassVar[str] = "an offer"
    id: str = key(ID, "the offer's id (name it in `call.accept`)")
    author: str = key(ID, "who offers")
    kind: str = key(Choice(vocab.OFFER_KINDS), "what they offer (`vocab.OFFER_WORDS` has the words)")
    text: str = key(TEXT, "a few words from them, or empty")
    created: int = key(WHEN, "when they offered (their clock)")
    accepted: bool = key(Flag(), "the caller accepted it")


@dataclass(frozen=True, slots=True, kw_only=True)
class Update(Record):
    """A message in a call's thread."""

    WHAT: ClassVar[str] = "an update"
    id: str = key(ID, "the update's id")
    author: str = key(ID, "who wrote it")
    text: str = key(TEXT, "what they wrote")
    created: int = key(WHEN, "when (their clock)")


def _section(words: str) -> Any:
    """A section added after the first four: absent in older data, so it defaults to empty."""
    return key(TEXT, words, default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanParts(Record):
    """A support plan: one text per section (`vocab.PLAN_FIELDS`, in this order; labels in
    `vocab.PLAN_SECTION_WORDS`), each possibly empty. A plan or share written with the first four parts
    only reads with the others empty."""

    WHAT: ClassVar[str] = "a support plan"
    when_well: str = _section("when I'm well")
    helps: str = key(TEXT, "what helps")
    keeps_me_well: str = _section("what keeps me well")
    stressors: str = _section("what throws me off, and what helps then")
    early_signs: str = _section("early signs others may notice")
    when_hard: str = _section("when it's hard I'd like (company, a walk, text only...)")
    avoid: str = key(TEXT, "what to avoid")
    contact: str = key(TEXT, "who to contact, and how (who to involve)")
    who_not_to_involve: str = _section("who not to involve")
    outside_help: str = _section("outside help the person chose (meshcare never contacts them)")
    wishes: str = _section("wishes (e.g. no police, no hospital unless I ask)")
    practical: str = _section("practical things (pets, kids, keys)")
    after: str = _section("after: how they would like follow-up")
    stops_when: str = _section("when this plan stops applying")
    other: str = key(TEXT, "anything else")
    review_by: str = _section("review date, YYYY-MM-DD (empty: none)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Share(Record):
    """A support plan someone shared: with whoever has one call, or with the whole circle."""

    WHAT: ClassVar[str] = "a shared plan"
    id: str = key(ID, "the share's id (name it in `plan.retract`)")
    author: str = key(ID, "whose plan it is")
    name: str | None = key(Maybe(TEXT), "their name, if this node knows it")
    to: str = key(Choice(vocab.SHARE_TARGETS), "shared with a call's thread or the whole circle")
    call: str | None = key(Maybe(ID), "the call it was shared in (may be set for a circle share too)")
    plan: PlanParts = key(View(PlanParts), "the plan as shared (sections not shared are empty)")
    created: int = key(WHEN, "when it was shared")
    sections: tuple[str, ...] = key(Seq(Choice(vocab.PLAN_FIELDS)),
                                    "the sections it carries, in plan order", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class Reader(Record):
    """Someone who can read a share of the plan."""

    WHAT: ClassVar[str] = "a reader"
    id: str = key(ID, "their member id")
    name: str | None = key(Maybe(TEXT), "their name, if this node knows it")


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnShare(Share):
    """A share of this node's own plan, with the circle it went to and who can read it."""

    WHAT: ClassVar[str] = "a share of your plan"
    circle: str = key(CIRCLE_ID, "the circle it was shared in")
    circle_name: str | None = key(Maybe(TEXT), "that circle's name, if this node still has it", default=None)
    readers: tuple[Reader, ...] = key(
        Seq(View(Reader), item_noun="reader"),
        "who can read it: for a call share, the person it was sealed to (the one who had the call; empty "
        "for a share made before shares named their reader); for a circle share empty: everyone in "
        "`circle` can", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Record):
    """A call for support, as this node knows it now."""

    WHAT: ClassVar[str] = "a call"
    id: str = key(ID, "the call's id")
    caller: str = key(ID, "who asked for support")
    text: str = key(TEXT, "what is going on, in the caller's words")
    urgency: str = key(Choice(vocab.URGENCIES), "how soon")
    needs: tuple[str, ...] = key(Seq(Choice(vocab.NEEDS)), "what would help")
    reach: str | None = key(Maybe(TEXT), "how to reach the caller")
    consent: tuple[str, ...] = key(Seq(Choice(vocab.CONSENTS)), "the caller's wishes for how others act")
    consent_note: str | None = key(Maybe(TEXT), "anything else about their wishes")
    created: int = key(WHEN, "when the call was made (the caller's clock)")
    status: str = key(Choice(vocab.CALL_STATUSES), "open (nobody has it), claimed, or resolved")
    claimer: str | None = key(Maybe(ID), "who has the call")
    claimed_at: int | None = key(Maybe(WHEN), "since when they have it")
    also_claimed: tuple[str, ...] = key(Seq(ID), "others who claimed it after the claimer (next in line)")
    offers: tuple[Offer, ...] = key(Seq(View(Offer), item_noun="offer"), "offers of support, oldest first")
    accepted: tuple[str, ...] = key(Seq(ID), "ids of the offers the caller accepted")
    updates: tuple[Update, ...] = key(Seq(View(Update), item_noun="update"), "the thread's messages, oldest first")
    resolved_by: str | None = key(Maybe(ID), "who resolved it")
    resolved_at: int | None = key(Maybe(WHEN), "when it was resolved")
    followup_at: int | None = key(Maybe(WHEN), "when a follow-up check-in is planned")
    step: int = key(Int(0, vocab.MAX_LADDER_STEPS - 1), "the ladder step reached so far (0: the first)")
    received_by: tuple[str, ...] = key(Seq(ID), "members whose nodes confirmed they received it")
    ladder: tuple[LadderStep, ...] = key(Seq(View(LadderStep), item_noun="ladder step"),
                                         "who hears first and who later")
    checkins: tuple[str, ...] = key(Seq(ID), "follow-up check-ins about this call")
    names: dict[str, str] = key(NAMES, "id -> name of the people in the call")
    circle: str = key(CIRCLE_ID, "the circle it was made in")
    circle_name: str = key(TEXT, "that circle's name")
    audience: int = key(COUNT, "people the call has gone to so far (the circle as it was when it was made)")
    reached: int = key(COUNT, "of them, how many nodes confirmed receipt")
    waiting_on: tuple[str, ...] = key(Seq(ID), "ids of the audience not reached yet")
    mine: bool = key(Flag(), "this node's person made the call")
    claimed_too: bool = key(Flag(), "this person claimed it too, but someone's claim came first")
    plans: tuple[Share, ...] = key(Seq(View(Share), item_noun="shared plan"),
                                   "support plans shared in the thread, and the caller's circle-wide one")
    narrowed: bool = key(Flag(), "not for everyone: the caller left someone out (never who)", default=False)
    busy: bool = key(Flag(), "this person holds as many calls as the cap they set: their node does not "
                     "notify them of this one", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(Record):
    """A member's current answer to a check-in."""

    WHAT: ClassVar[str] = "a check-in reply"
    id: str = key(ID, "the reply's id")
    member: str = key(ID, "who answered")
    option: int | None = key(Maybe(Int(0, vocab.MAX_OPTIONS - 1)),
                             "the answer's index (0-based), null when only the facilitators can read it")
    option_text: str | None = key(Maybe(TEXT), "the answer's text, null when unreadable here")
    text: str = key(TEXT, "a few words, or empty")
    created: int = key(WHEN, "when they answered")
    late: bool = key(Flag(), "answered after the check-in closed (still counts)")
    suggest_call: bool = key(Flag(), f"the answer was \"{vocab.SUGGEST_CALL_OPTION}\": offer to start a call")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkin(Record):
    """A facilitator's check-in, with the answers this node may see and their tally."""

    WHAT: ClassVar[str] = "a check-in"
    id: str = key(ID, "the check-in's id")
    author: str = key(ID, "the facilitator who asked")
    prompt: str = key(TEXT, "the question")
    options: tuple[str, ...] = key(Seq(TEXT), "the possible answers, in order")
    visibility: str = key(Choice(vocab.CHECKIN_VISIBILITY), "who sees the answers")
    call: str | None = key(Maybe(ID), "the call it follows up, if any")
    closes_at: int | None = key(Maybe(WHEN), "when it stops asking (answers after it still count)")
    created: int = key(WHEN, "when it was sent")
    replies: tuple[Reply, ...] = key(Seq(View(Reply), item_noun="reply"), "each member's current answer")
    tally: dict[str, int] = key(Map(TEXT, COUNT), "option text -> answers choosing it, every option, in order")
    answered: int = key(COUNT, "how many answered (readable or not)")
    not_answered: tuple[str, ...] = key(Seq(ID), "members asked who have not answered")
    names: dict[str, str] = key(NAMES, "id -> name of the people in it")
    circle: str = key(CIRCLE_ID, "the circle it was sent in")
    circle_name: str = key(TEXT, "that circle's name")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleSettings(Record):
    """A circle's settings, chosen by its facilitators."""

    WHAT: ClassVar[str] = "a circle's settings"
    retention_days: int = key(Int(vocab.MIN_RETENTION_DAYS, vocab.MAX_RETENTION_DAYS),
                              "days calls and posts are kept")
    rotate_days: int = key(Int(0, vocab.MAX_ROTATE_DAYS), "days between key rotations (0: only on membership changes)")
    share_history: bool = key(Flag(), "new members can read what was said before they joined")
    members_invite: bool = key(Flag(), "members, not only facilitators, may invite")


@dataclass(frozen=True, slots=True, kw_only=True)
class Circle(Record):
    """A circle this node is in, was in, or is joining."""

    WHAT: ClassVar[str] = "a circle"
    id: str = key(CIRCLE_ID, "the circle's id")
    name: str = key(TEXT, "its name")
    role: str | None = key(Maybe(Choice(vocab.ROLES)), "this person's role, null once they left or were removed")
    status: str = key(Choice(vocab.CIRCLE_STATUSES), "this node's place in it")
    members: int = key(COUNT, "people in it (relays not counted)")
    relays: int = key(COUNT, "relay nodes in it")
    facilitators: int = key(COUNT, "facilitators in it")
    settings: CircleSettings = key(View(CircleSettings), "its settings")
    created: int = key(WHEN, "when it was founded")
    epoch: int | None = key(Maybe(COUNT), "its current key epoch (null while joining: its roster has not arrived)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Joining(Record):
    """A request of this node to join a circle, still waiting or refused."""

    WHAT: ClassVar[str] = "a join request"
    circle: str = key(CIRCLE_ID, "the circle's id")
    circle_name: str = key(TEXT, "its name, as the invite says")
    invite: str = key(ID, "the invite's id")
    expires: int = key(Time(None, None), "when the invite expires")
    since: int | None = key(Maybe(WHEN), "when this node asked")
    status: str = key(Choice(vocab.JOIN_STATUSES), "waiting for a member to come online, or refused")
    refused: str | None = key(Maybe(Choice(vocab.REFUSAL_REASONS)), "why it was refused, or null")


@dataclass(frozen=True, slots=True, kw_only=True)
class Invite(Record):
    """An invite of a circle and what became of it."""

    WHAT: ClassVar[str] = "an invite"
    invite: str = key(ID, "the invite's id (name it in `circle.revoke`)")
    role: str = key(Choice(vocab.ROLES), "what the invited node becomes")
    expires: int = key(WHEN, "when it expires")
    by: str = key(ID, "who made it")
    by_name: str | None = key(Maybe(TEXT), "their name")
    used_by: str | None = key(Maybe(ID), "who joined with it")
    used_by_name: str | None = key(Maybe(TEXT), "their name")
    revoked: bool = key(Flag(), "it was withdrawn")
    open: bool = key(Flag(), "it can still be used")


@dataclass(frozen=True, slots=True, kw_only=True)
class Member(Record):
    """A member of a circle, as this node sees them."""

    WHAT: ClassVar[str] = "a member"
    id: str = key(ID, "their id")
    name: str = key(TEXT, "their name in the circle")
    role: str = key(Choice(vocab.ROLES), "their role")
    fingerprint: str = key(TEXT, "their fingerprint, to compare in person")
    verified: bool = key(Flag(), "this person verified their fingerprint")
    me: bool = key(Flag(), "this is this node's person")
    status: str = key(Choice(vocab.PRESENCE_STATES), "their availability")
    until: int | None = key(Maybe(WHEN), "until when it holds")
    load: int = key(COUNT, "calls they have now")
    onion: str | None = key(Maybe(TEXT), "where their node can be dialled over Tor, xxx.onion:PORT (null: they "
                            "gave none, or turned it off)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterRow(Record):
    """One member's availability."""

    WHAT: ClassVar[str] = "a roster row"
    member: str = key(ID, "their id")
    name: str | None = key(Maybe(TEXT), "their name")
    status: str = key(Choice(vocab.PRESENCE_STATES), "available, away, or unknown (never said, or expired)")
    until: int | None = key(Maybe(WHEN), "until when it holds")
    cap: int | None = key(Maybe(Int(1, vocab.MAX_PRESENCE_CAP)), "the most calls they take at a time")
    load: int = key(COUNT, "calls they took since they said so")
    full: bool = key(Flag(), "available, but their cap is reached")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleRoster(Record):
    """Who is available in one circle: available people first, then away, then unknown."""

    WHAT: ClassVar[str] = "a circle's roster"
    circle: str = key(CIRCLE_ID, "the circle's id")
    name: str = key(TEXT, "its name")
    roster: tuple[RosterRow, ...] = key(Seq(View(RosterRow), item_noun="roster row"), "one row per current member")


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer(Record):
    """A node the daemon knows: linked (with link details) or only known by address (with its source)."""

    WHAT: ClassVar[str] = "a peer"
    node_id: str | None = key(Maybe(ID), "its node id, null while not linked")
    address: str = key(TEXT, "host:port")
    linked: bool = key(Flag(), "a link to it is open")
    initiator: bool | None = key(Maybe(Flag()), "linked: this node dialled", omit_none=True)
    since: float | None = key(Maybe(Number(None, None)), "linked: when the link opened (daemon clock, seconds)",
                              omit_none=True)
    topics: int | None = key(Maybe(COUNT), "linked: topics shared over the link", omit_none=True)
    source: str | None = key(Maybe(TEXT), "not linked: where the address came from (static, mdns, invite)",
                             omit_none=True)
    name: str | None = key(Maybe(TEXT), "its name, if known", omit_none=True)
    via: str | None = key(Maybe(Choice(("direct", "onion"))), "linked: how the link runs: direct (LAN or an "
                          "address) or onion (through Tor)", omit_none=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleSnapshot(Record):
    """One circle in a `snapshot`: the circle, what `circle.members`, `roster` and `circle.invites` answer
    for it, and whether this node is catching up on it."""

    WHAT: ClassVar[str] = "a circle's snapshot"
    circle: Circle = key(View(Circle), "the circle, as `circle.list` shows it")
    members: tuple[Member, ...] = key(Seq(View(Member), item_noun="member"), "as `circle.members` lists them")
    roster: tuple[RosterRow, ...] = key(Seq(View(RosterRow), item_noun="roster row"),
                                        "as `roster` shows the circle: one row per current member")
    invites: tuple[Invite, ...] = key(Seq(View(Invite), item_noun="invite"), "as `circle.invites` lists them")
    sync: str = key(Choice(vocab.SYNC_STATES), "catching up, or caught up (what the last `sync` event said)")


def caller_wishes(call: Call) -> tuple[str, ...]:
    """The "wishes" section (no police, no hospital unless I ask ...) of the plans the caller shared that
    this call shows, each text once, in share order: what a responder reads first, at the top of the call
    (the CLI's ``call show`` and the TUI's call screen say it the same way)."""
    texts = (s.plan.wishes.strip() for s in call.plans if s.author == call.caller)
    return tuple(dict.fromkeys(t for t in texts if t))


# --- follow-up and responder care (issue 13 items 3 and 4): a follow-up has no content at all (who checks
# in on whom, when, done or not), which is all a facilitator learns of it; a timer carries its note

#: Which check-in of a follow-up is due now: the first, or the second a few days later.
FOLLOWUP_WHICH: Final = ("first", "again")


@dataclass(frozen=True, slots=True, kw_only=True)
class Followup(Record):
    """A check-in someone asked for after their call: who does it, when, and whether it is done. Never
    what the call said."""

    WHAT: ClassVar[str] = "a follow-up"
    id: str = key(ID, "the follow-up's id (the asker's latest answer)")
    call: str = key(ID, "the call it follows")
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "the circle's name")
    asker: str = key(ID, "who made the call and asked for the check-in")
    asker_name: str | None = key(Maybe(TEXT), "their name")
    who: str = key(ID, "who checks in")
    who_name: str | None = key(Maybe(TEXT), "their name")
    due: int = key(WHEN, "when the check-in is due")
    again: int | None = key(Maybe(WHEN), "when a second check-in is due (null: none asked)")
    done_at: int | None = key(Maybe(WHEN), "when the first check-in was marked done (null: not yet)")
    again_done_at: int | None = key(Maybe(WHEN), "when the second was marked done (null: not yet, or none)")
    todo: str | None = key(Maybe(Choice(FOLLOWUP_WHICH)), "which check-in is due now and not done (null: none)")
    mine: bool = key(Flag(), "this person is the one who checks in")
    asked: bool = key(Flag(), "this person asked for it")


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer(Record):
    """A safety timer: someone went in person and says "I'm OK" every few minutes. Its person and the
    circle's facilitators see it; nobody else."""

    WHAT: ClassVar[str] = "a safety timer"
    id: str = key(ID, "the timer's id")
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "the circle's name")
    person: str = key(ID, "who is on the timer")
    name: str | None = key(Maybe(TEXT), "their name")
    every: int = key(Int(vocab.MIN_SAFETY_EVERY, vocab.MAX_SAFETY_EVERY), "minutes between \"I'm OK\"s")
    note: str = key(TEXT, "their note for the facilitators (may be empty)")
    started: int = key(WHEN, "when it started")
    last: int = key(WHEN, "the start or the latest sign from them")
    there_at: int | None = key(Maybe(WHEN), "when they said \"I'm there\"")
    ended_at: int | None = key(Maybe(WHEN), "when they ended it (null: running)")
    next_ok_at: int | None = key(Maybe(WHEN), "when the next \"I'm OK\" is due (null: ended)")
    overdue_at: int | None = key(Maybe(WHEN), "when the facilitators are alerted if nothing comes (null: ended)")
    overdue: bool = key(Flag(), "nothing came in time: the facilitators were alerted")
    mine: bool = key(Flag(), "this person is on the timer")


from .views_ladders import LADDER_VIEWS  # noqa: E402  (built on the shapes above)
from .views_doctor import DOCTOR_VIEWS  # noqa: E402  (node.health's records)

VIEWS: Final = (Followup, Timer, Call, Offer, Update, LadderStep, Share, OwnShare, Reader, PlanParts, Checkin, Reply,
                Circle, CircleSettings, Joining, Invite, Member, CircleRoster, RosterRow, Peer,
                CircleSnapshot, Need, Board) + LADDER_VIEWS + DOCTOR_VIEWS
