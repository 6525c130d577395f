"""The words meshcare's people and programs share: urgencies, needs, wishes, offers, roles, statuses, limits.

Why one module: the circles domain checks posts against these words, the control API describes its
arguments with them, and the CLI and the TUI offer them as choices. Written once here, they cannot drift
apart (a TUI offering "ride" that the domain refuses). Pure and import-free on purpose, so the TUI can
import it without loading the core.

Changing a value here changes the protocol (posts carrying it are refused by older nodes) or a contract
(docs/control.md, docs/cli.md): add to a tuple, never rename. The ``*_WORDS`` maps are the plain words a
person reads for each value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# --- calls for support ----------------------------------------------------------------------------

#: How soon the caller needs someone.
URGENCIES: Final = ("now", "today", "whenever")
DEFAULT_URGENCY: Final = "today"
#: What would help (a call may name several, or none).
NEEDS: Final = ("listen", "company", "practical", "ride")
#: The caller's wishes for how others act.
CONSENTS: Final = ("no_police", "do_not_tell_others", "no_calls", "text_only")
#: Where a step of a call's ladder goes: members the caller chose, the facilitators, the whole circle.
LADDER_TARGETS: Final = ("chosen", "facilitators", "circle")
#: Kinds of offer in a call's thread.
OFFER_KINDS: Final = ("call", "come_over", "listening", "text", "second_person")
#: Where a call stands: nobody has it yet, someone has it, it is over.
CALL_STATUSES: Final = ("open", "claimed", "resolved")
#: Notices about one call that the daemon sends as ``call`` events.
CALL_NOTICES: Final = ("claim_lost",)

URGENCY_WORDS: Final[Mapping[str, str]] = {"now": "now", "today": "today", "whenever": "whenever someone can"}
NEED_WORDS: Final[Mapping[str, str]] = {"listen": "someone to listen", "company": "company",
                                        "practical": "practical help", "ride": "a ride"}
CONSENT_WORDS: Final[Mapping[str, str]] = {"no_police": "please do not involve the police",
                                           "do_not_tell_others": "please do not tell anyone outside this call",
                                           "no_calls": "no phone calls, please", "text_only": "text only, please"}
OFFER_WORDS: Final[Mapping[str, str]] = {"call": "I can call", "come_over": "I can come over",
                                         "listening": "I can listen", "text": "I can text",
                                         "second_person": "I can come over with a second person"}

# --- check-ins ------------------------------------------------------------------------------------

#: Who sees the answers to a check-in.
CHECKIN_VISIBILITY: Final = ("facilitators", "circle")
DEFAULT_VISIBILITY: Final = "facilitators"
#: The answers of a check-in that names none.
DEFAULT_OPTIONS: Final = ("doing OK", "could use a chat", "need support now")
#: A check-in reply with this option text suggests starting a call for support.
SUGGEST_CALL_OPTION: Final = DEFAULT_OPTIONS[-1]
#: Where a post stands while this node has no link to anyone sharing its circle: the CLI and the TUI say
#: exactly this (never "sent" for something still waiting in the store).
NOT_LINKED_WORDS: Final = "not linked to anyone yet: it will go when a neighbour is reachable"

# --- availability ---------------------------------------------------------------------------------

#: What a member says about themselves.
PRESENCE_STATUSES: Final = ("available", "away")
#: What the others see: what was said, or "unknown" (never said, or it expired).
PRESENCE_STATES: Final = ("available", "away", "unknown")
#: How long an availability without an end time holds: an evening or a night.
DEFAULT_PRESENCE_S: Final = 12 * 3600

# --- circles and membership -----------------------------------------------------------------------

#: Roles in a circle; a relay carries the circle's envelopes without being able to read them.
ROLES: Final = ("facilitator", "member", "relay")
#: Roles of people, who take calls and say whether they are available (a relay is a node, not a person).
PERSON_ROLES: Final = ("facilitator", "member")
#: Roles a facilitator grants to someone already in the circle.
GRANTED_ROLES: Final = PERSON_ROLES
#: This node's place in a circle: in it, left it, removed from it, or waiting to be admitted.
CIRCLE_STATUSES: Final = ("member", "left", "removed", "joining")
#: A request to join: still waiting for a member to come online, or refused (``REFUSAL_REASONS``).
JOIN_STATUSES: Final = ("waiting", "refused")
#: Why a member's node refused a join request.
REFUSAL_REASONS: Final = ("used", "revoked", "expired", "invalid")

# --- what a subscribed client is told (control events) -------------------------------------------

#: How a circle's membership changed (``member`` events).
MEMBER_CHANGES: Final = ("joined", "left", "removed", "role", "renamed")
#: What happened to an invite (``invite`` events).
INVITE_CHANGES: Final = ("used", "revoked")
#: The answer to this node's request to join a circle (``join`` events).
JOIN_OUTCOMES: Final = ("welcome", "refused")
#: Where this node stands with a circle's sync (``sync`` events).
SYNC_STATES: Final = ("catching_up", "caught_up")
#: Notices for the person (``notice`` events): this node was removed from a circle; someone joined under
#: the name of a member who left or was removed, with another key.
NOTICES: Final = ("removed", "key_changed", "safety_overdue", "followup_due")
#: How a call changed (``call.changed`` events), and which parts of it changed (``plans``: the support
#: plans its thread shows).
CALL_CHANGES: Final = ("new", "updated", "resolved", "gone")
CALL_PARTS: Final = ("status", "claim", "offers", "updates", "step", "reach", "followup", "plans")
#: How a check-in changed (``checkin.changed`` events); ``asked``: who it asks changed (someone joined
#: or left the circle), so who has not answered changed.
CHECKIN_CHANGES: Final = ("new", "reply", "tally", "asked", "gone")

# --- support plans --------------------------------------------------------------------------------

#: The sections of a support plan, in the order people write and read them (issue 13: when I'm well first,
#: the review date last). ``helps``, ``avoid``, ``contact`` and ``other`` were the plan's first four parts:
#: their keys are a contract (``plan.edit`` arguments, ``PlanParts`` keys, ``plan edit --helps`` ...).
PLAN_FIELDS: Final = ("when_well", "helps", "keeps_me_well", "stressors", "early_signs", "when_hard", "avoid",
                      "contact", "who_not_to_involve", "outside_help", "wishes", "practical", "after",
                      "stops_when", "other", "review_by")
#: Each section's label, as the CLI, the TUI and the docs show it (one place for the words).
PLAN_SECTION_WORDS: Final = {
    "when_well": "When I'm well",
    "helps": "What helps",
    "keeps_me_well": "What keeps me well",
    "stressors": "What throws me off, and what helps then",
    "early_signs": "Early signs others may notice",
    "when_hard": "When it's hard I'd like",
    "avoid": "Please avoid",
    "contact": "Who to involve",
    "who_not_to_involve": "Who not to involve",
    "outside_help": "Outside help I chose (meshcare never contacts them)",
    "wishes": "Wishes",
    "practical": "Practical things",
    "after": "After: how I'd like follow-up",
    "stops_when": "When this plan stops applying",
    "other": "Anything else",
    "review_by": "Review by",
}
#: A few words more for the person writing a section (the editor's template, the TUI's plan screen).
PLAN_SECTION_HINTS: Final = {
    "when_well": "what I'm like when I'm OK",
    "helps": "things I can do myself",
    "keeps_me_well": "daily or weekly things",
    "stressors": "",
    "early_signs": "",
    "when_hard": "company, a walk, text only...",
    "avoid": "what doesn't help, or makes it worse",
    "contact": "who to contact and how, in order",
    "who_not_to_involve": "members or others",
    "outside_help": "",
    "wishes": "e.g. no police, no hospital unless I ask",
    "practical": "pets, kids, keys",
    "after": "",
    "stops_when": "",
    "other": "",
    "review_by": "a date, YYYY-MM-DD",
}
#: The section that holds a date, not text: a gentle prompt once it has passed.
PLAN_REVIEW_FIELD: Final = "review_by"
#: The section a responder sees first, at the top of a call (no police, no hospital unless I ask ...).
PLAN_WISHES_FIELD: Final = "wishes"
#: What the owner is told when the review date has passed (``plan show``, the TUI's plan screen).
PLAN_REVIEW_PROMPT: Final = "Your plan's review date has passed: is it still right?"
#: Who can read a section (``plan show``, the TUI): nobody but its owner, one share in a call (the person
#: it was sealed to, the call), one share with a circle.
PLAN_READERS_NONE: Final = "only you"
PLAN_READERS_CALL: Final = "shared with {name} (call {call})"
PLAN_READERS_CIRCLE: Final = "everyone in {circle}"
#: With whom a plan is shared: whoever has one call, or the whole circle.
SHARE_TARGETS: Final = ("call", "circle")

# --- care woven into circle life (ladders, follow-up, responder care, gatherings, the board, private
# requests, the library): docs/circles.md ----------------------------------------------------------

#: How someone answers a request to be on another person's ladder.
LADDER_ANSWERS: Final = ("accept", "decline")
#: The name of a ladder when none is given (people may keep several: "calls", "practical", ...).
DEFAULT_LADDER: Final = "calls"
#: Where a request for a place on someone's ladder stands.
LADDER_STATES: Final = ("pending", "accepted", "declined", "withdrawn")
#: What a rung says to the person whose ladder it is, and what a request says to the person asked (the
#: CLI and the TUI use the same words).
LADDER_STATE_WORDS: Final[Mapping[str, str]] = {"pending": "asked, no answer yet", "accepted": "said yes",
                                                "declined": "said no", "withdrawn": "taken off"}
LADDER_ANSWER_WORDS: Final[Mapping[str, str]] = {"pending": "not answered yet", "accepted": "you said yes",
                                                 "declined": "you said no", "withdrawn": "taken back"}
#: Where a call built from a ladder goes after its accepted rungs, if anywhere.
LADDER_THEN: Final = ("facilitators", "circle")
#: Minutes between the steps of a call built from a ladder, unless the caller says otherwise.
DEFAULT_LADDER_EVERY: Final = 10
#: What someone on a safety timer says after starting it: arrived, still fine, finished.
SAFETY_STATUSES: Final = ("there", "ok", "end")
GATHERING_KINDS: Final = ("group", "workshop", "walk", "meal", "other")
RSVP_ANSWERS: Final = ("yes", "no", "maybe")
#: The group agreements a circle starts from (facilitators edit them: ``agreements`` posts).
DEFAULT_AGREEMENTS: Final = ("No advice unless someone asks for it",
                             "No cross-talk: one person speaks at a time",
                             "Anyone may pass",
                             "What is shared here stays here")
#: The shape of a gathering that names none.
DEFAULT_FORMAT: Final = ("check-in round", "topic", "closing round")
#: A post on the mutual-aid board asks for something or offers it.
BOARD_KINDS: Final = ("need", "offer")
NEED_CATEGORIES: Final = ("food", "housing", "ride", "childcare", "money", "company", "other")
#: The board's categories and item states in a person's words (the CLI and the TUI say the same).
NEED_CATEGORY_WORDS: Final[Mapping[str, str]] = {"food": "food", "housing": "housing", "ride": "a ride",
                                                 "childcare": "childcare", "money": "money", "company": "company",
                                                 "other": "something else"}
NEED_STATES: Final = ("open", "taken", "done", "withheld")
NEED_STATE_WORDS: Final[Mapping[str, str]] = {"open": "open", "taken": "taken", "done": "done",
                                              "withheld": "not shown: the circle did not allow anonymous posts"}
#: Ways to be reached a node keeps for its person's open board items (LocalState.reach).
MAX_REACH_KEPT: Final = 200
#: What a private request to a facilitator is about.
REQUEST_ABOUT: Final = ("conversation", "debrief", "conflict")
#: The care objects a ``care.changed`` event names (each is one fold of the circle's posts, and one
#: field of the registry's ``View``), and how one changed.
CARE_OBJECTS: Final = ("ladders", "followups", "safety", "gatherings", "needs", "requests", "library")
CARE_CHANGES: Final = ("new", "updated", "gone")

# --- follow-up and responder care (docs/circles.md, "Follow-up and responder care") --------------------

#: The check-in a caller may ask for after a call: tomorrow, and optionally again 3 to 7 days later.
FOLLOWUP_AGAIN_DAYS: Final = (3, 7)
FOLLOWUP_QUESTION: Final = "Would you like someone to check in tomorrow?"
FOLLOWUP_AGAIN_QUESTION: Final = "And again in a few days?"
#: When "tomorrow" is, for a follow-up and for "take me off for tonight": this hour, local time.
TOMORROW_HOUR: Final = 9
OFF_TONIGHT_HOUR: Final = 8
#: A safety timer is overdue this long after an "I'm OK" was due (seconds): a phone in a pocket, a
#: conversation that could not be interrupted.
SAFETY_GRACE_S: Final = 5 * 60
#: How far back the private load view looks (days).
LOAD_DAYS: Final = 7
#: What someone on a safety timer says, in words.
SAFETY_WORDS: Final[Mapping[str, str]] = {"there": "I'm there", "ok": "I'm OK", "end": "I'm done, all fine"}

# --- limits (characters are counted with len(), not bytes) ----------------------------------------

MAX_NAME: Final = 64                  # a circle's or a member's name
MAX_CALL_TEXT: Final = 4000
MAX_REACH: Final = 500
MAX_CONSENT_NOTE: Final = 500
MAX_LADDER_STEPS: Final = 5
MAX_LADDER_AFTER: Final = 1440        # minutes: a ladder spans at most one day
MAX_STEP_MEMBERS: Final = 50
MAX_OFFER_TEXT: Final = 2000
MAX_UPDATE_TEXT: Final = 4000
MAX_PROMPT: Final = 1000
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 6
MAX_OPTION_TEXT: Final = 60
MAX_REPLY_TEXT: Final = 2000
MAX_PRESENCE_CAP: Final = 20          # calls a member takes at a time
MAX_PLAN_FIELD: Final = 2000
MAX_PLAN_TOTAL: Final = 8000            # all sections together (the four first parts' old ceiling)
MAX_PRIVATE_TO: Final = 16            # people one private post is sealed to (besides its author)
# social recovery (meshcare/recovery): a SLIP-0039 share of a 32-byte key is 33 words; the sealed bundle
# and the signed setup record ride in one private post, within the 32 KiB envelope
MAX_RECOVERY_SHARE: Final = 400
MAX_RECOVERY_BUNDLE: Final = 24_000
MAX_RECOVERY_RECORD: Final = 2_048
MAX_LADDER_NAME: Final = 40
MAX_NOTE: Final = 500                 # a short note: with a ladder request, a safety timer, where to meet
MAX_TITLE: Final = 120                # a gathering's or a library text's title
MAX_GATHERING_TEXT: Final = 2000      # what a gathering is about, its aftercare
MAX_LIST_ITEMS: Final = 20            # agreements, format rounds
MAX_ITEM_TEXT: Final = 200            # one agreement, one round
MAX_GATHERING_HOSTS: Final = 4        # a gathering's facilitators
MAX_REMIND_MINUTES: Final = 7 * 24 * 60
MIN_SAFETY_EVERY: Final = 5           # minutes between "I'm OK"s on a safety timer
MAX_SAFETY_EVERY: Final = 240
MAX_NEED_TEXT: Final = 1000
MAX_REQUEST_TEXT: Final = 4000
MAX_REQUEST_TO: Final = 2               # facilitators one private request asks (the asker's choice)
MAX_LIBRARY_TEXT: Final = 8000
#: Calls, check-ins, invites, offers and shares are named by at least this many hex digits of their id.
MIN_ID_PREFIX: Final = 4
#: Longest reference (a name or the start of an id) a request may carry.
MAX_REF: Final = 256
#: Longest invite token text (``MC1`` + base32, spaces and line breaks included).
MAX_TOKEN: Final = 8192
MIN_RETENTION_DAYS: Final = 1
MAX_RETENTION_DAYS: Final = 365
DEFAULT_RETENTION_DAYS: Final = 30
MAX_ROTATE_DAYS: Final = 365          # 0: rotate only when the membership changes
DEFAULT_ROTATE_DAYS: Final = 7
MAX_INVITE_HOURS: Final = 24 * 30
DEFAULT_INVITE_HOURS: Final = 24
#: Open invites a circle may have at a time.
MAX_OPEN_INVITES: Final = 64
#: Latest unix time (seconds) anything may carry: a signed 64-bit integer.
TIME_MAX: Final = 2**63 - 1
