"""The names of control operations and events: findable by grep, written once.

The daemon dispatches by these names (an unknown one answers ``unknown-op``); ``requests.REQUESTS``,
``results.RESULTS`` and ``events.EVENTS`` map them to their typed records. Names are contracts: new ones
may be added, none renamed.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BAD_REQUEST", "EV_CALL", "EV_CARE_CHANGED", "EV_CALL_CHANGED", "EV_CHECKIN_CHANGED", "EV_CIRCLE", "EV_ENVELOPE", "EV_INVITE",
           "EV_JOIN", "EV_MEMBER", "EV_NOTICE", "EV_PEER", "EV_PRESENCE", "EV_SYNC", "FAILED", "NOT_FOUND",
           "OP_CALLS_LIST", "OP_CALL_ACCEPT", "OP_CALL_CLAIM", "OP_CALL_CREATE", "OP_CALL_OFFER", "OP_CALL_RELEASE",
           "OP_CALL_RESOLVE", "OP_CALL_SHOW", "OP_CALL_UPDATE", "OP_CHECKIN_CREATE", "OP_CHECKIN_LIST",
           "OP_CHECKIN_REPLY", "OP_CHECKIN_SHOW", "OP_CIRCLE_CREATE", "OP_CIRCLE_INVITE",
           "OP_CIRCLE_INVITES", "OP_CIRCLE_JOIN", "OP_CIRCLE_LEAVE", "OP_CIRCLE_LIST", "OP_CIRCLE_MEMBERS",
           "OP_CIRCLE_REMOVE", "OP_FOLLOWUP_ASK", "OP_FOLLOWUP_DONE", "OP_FOLLOWUP_LIST", "OP_ME_LOAD",
           "OP_SAFETY_LIST", "OP_SAFETY_PING", "OP_SAFETY_START", "OP_CIRCLE_REVOKE", "OP_CIRCLE_ROLE", "OP_CIRCLE_VERIFY", "OP_NODE_RENAME", "OP_PEERS",
           "OP_BOARD_SET", "OP_NEED_CREATE", "OP_NEED_DONE", "OP_NEED_LIST", "OP_NEED_RELEASE", "OP_NEED_TAKE",
           "OP_PLAN_EDIT", "OP_PLAN_RETRACT", "OP_PLAN_SHARE", "OP_PLAN_SHOW", "OP_PRESENCE_SET",
           "OP_ROSTER", "OP_SNAPSHOT", "OP_LADDER_ADD", "OP_LADDER_LIST", "OP_LADDER_REQUESTS",
           "OP_LADDER_ANSWER", "OP_LADDER_REMOVE", "OP_AVOID_ADD", "OP_AVOID_REMOVE", "OP_AVOID_LIST", "OP_STATUS",
           "OP_SUBSCRIBE", "UNKNOWN_OP"]
__all__ += ["EV_GATHERING_REMINDER", "OP_AGREEMENTS_SET", "OP_AGREEMENTS_SHOW", "OP_GATHERING_CANCEL",
            "OP_GATHERING_CREATE", "OP_GATHERING_LIST", "OP_GATHERING_RSVP", "OP_GATHERING_SHOW"]
__all__ += ["OP_LIBRARY_EDIT", "OP_LIBRARY_LIST", "OP_LIBRARY_REMOVE", "OP_LIBRARY_SHOW", "OP_LIBRARY_STARTERS",
            "OP_REQUEST_CLOSE", "OP_REQUEST_CREATE", "OP_REQUEST_LIST", "OP_REQUEST_REPLY", "OP_REQUEST_SHOW"]
__all__ += ["OP_NODE_HEALTH"]
__all__ += ["OP_CIRCLE_REACH"]

__all__ += ["OP_BACKUP_BUNDLE"]
__all__ += ["OP_MAILBOX_CLEAR", "OP_MAILBOX_SET", "OP_MAILBOX_STATUS"]

# --- operations -------------------------------------------------------------------------------------

OP_STATUS: Final = "status"
OP_PEERS: Final = "peers"
OP_SUBSCRIBE: Final = "subscribe"
OP_SNAPSHOT: Final = "snapshot"
OP_NODE_RENAME: Final = "node.rename"
#: what `meshcare doctor` asks the running daemon (links, discovery, peers' clocks)
OP_NODE_HEALTH: Final = "node.health"
#: this person's mailboxes: always-on relays their node keeps linked (docs/mailbox.md)
OP_MAILBOX_SET: Final = "mailbox.set"
OP_MAILBOX_CLEAR: Final = "mailbox.clear"
OP_MAILBOX_STATUS: Final = "mailbox.status"

OP_CIRCLE_CREATE: Final = "circle.create"
OP_CIRCLE_LIST: Final = "circle.list"
OP_CIRCLE_INVITE: Final = "circle.invite"
OP_CIRCLE_INVITES: Final = "circle.invites"
OP_CIRCLE_REVOKE: Final = "circle.revoke"
OP_CIRCLE_JOIN: Final = "circle.join"
OP_CIRCLE_MEMBERS: Final = "circle.members"
OP_CIRCLE_REMOVE: Final = "circle.remove"
OP_CIRCLE_LEAVE: Final = "circle.leave"
OP_CIRCLE_ROLE: Final = "circle.role"
OP_CIRCLE_VERIFY: Final = "circle.verify"
OP_CIRCLE_REACH: Final = "circle.reach"     # share this node's onion address in a circle, or not (issue 15)

OP_CALL_CREATE: Final = "call.create"
OP_CALLS_LIST: Final = "calls.list"
OP_CALL_SHOW: Final = "call.show"
OP_CALL_OFFER: Final = "call.offer"
OP_CALL_CLAIM: Final = "call.claim"
OP_CALL_RELEASE: Final = "call.release"
OP_CALL_ACCEPT: Final = "call.accept"
OP_CALL_UPDATE: Final = "call.update"
OP_CALL_RESOLVE: Final = "call.resolve"

OP_CHECKIN_CREATE: Final = "checkin.create"
OP_CHECKIN_REPLY: Final = "checkin.reply"
OP_CHECKIN_SHOW: Final = "checkin.show"
OP_CHECKIN_LIST: Final = "checkin.list"

OP_PRESENCE_SET: Final = "presence.set"
OP_ROSTER: Final = "roster"

OP_PLAN_SHOW: Final = "plan.show"
OP_PLAN_EDIT: Final = "plan.edit"
OP_PLAN_SHARE: Final = "plan.share"
OP_PLAN_RETRACT: Final = "plan.retract"
# consent-based ladders and "who not to involve" (issue 13)
OP_LADDER_ADD: Final = "ladder.add"
OP_LADDER_LIST: Final = "ladder.list"
OP_LADDER_REQUESTS: Final = "ladder.requests"
OP_LADDER_ANSWER: Final = "ladder.answer"
OP_LADDER_REMOVE: Final = "ladder.remove"
OP_AVOID_ADD: Final = "avoid.add"
OP_AVOID_REMOVE: Final = "avoid.remove"
OP_AVOID_LIST: Final = "avoid.list"

OP_GATHERING_CREATE: Final = "gathering.create"
OP_GATHERING_LIST: Final = "gathering.list"
OP_GATHERING_SHOW: Final = "gathering.show"
OP_GATHERING_CANCEL: Final = "gathering.cancel"
OP_GATHERING_RSVP: Final = "gathering.rsvp"
OP_AGREEMENTS_SHOW: Final = "agreements.show"
OP_AGREEMENTS_SET: Final = "agreements.set"

OP_FOLLOWUP_ASK: Final = "followup.ask"
OP_FOLLOWUP_DONE: Final = "followup.done"
OP_FOLLOWUP_LIST: Final = "followup.list"
OP_SAFETY_START: Final = "safety.start"
OP_SAFETY_PING: Final = "safety.ping"
OP_SAFETY_LIST: Final = "safety.list"
OP_ME_LOAD: Final = "me.load"
# private requests to facilitators, and the circle's library (requests_requests.py, results_requests.py)
OP_REQUEST_CREATE: Final = "request.create"
OP_REQUEST_LIST: Final = "request.list"
OP_REQUEST_SHOW: Final = "request.show"
OP_REQUEST_REPLY: Final = "request.reply"
OP_REQUEST_CLOSE: Final = "request.close"
OP_LIBRARY_LIST: Final = "library.list"
OP_LIBRARY_SHOW: Final = "library.show"
OP_LIBRARY_EDIT: Final = "library.edit"
OP_LIBRARY_REMOVE: Final = "library.remove"
OP_LIBRARY_STARTERS: Final = "library.starters"
OP_NEED_CREATE: Final = "need.create"
OP_NEED_LIST: Final = "need.list"
OP_NEED_TAKE: Final = "need.take"
OP_NEED_RELEASE: Final = "need.release"
OP_NEED_DONE: Final = "need.done"
OP_BOARD_SET: Final = "board.set"
OP_BACKUP_BUNDLE: Final = "backup.bundle"
# social recovery (requests_recovery.py, results_recovery.py, ops/recovery.py)
OP_RECOVERY_SETUP: Final = "recovery.setup"
OP_RECOVERY_STATUS: Final = "recovery.status"
OP_RECOVERY_REQUEST: Final = "recovery.request"
OP_RECOVERY_COLLECT: Final = "recovery.collect"
OP_RECOVERY_RELEASE: Final = "recovery.release"

# --- events (sent after ``subscribe``) ----------------------------------------------------------------

EV_PEER: Final = "peer"
EV_ENVELOPE: Final = "envelope"
EV_CIRCLE: Final = "circle"
EV_CALL: Final = "call"
EV_MEMBER: Final = "member"
EV_INVITE: Final = "invite"
EV_JOIN: Final = "join"
EV_PRESENCE: Final = "presence"
EV_SYNC: Final = "sync"
EV_NOTICE: Final = "notice"
EV_CALL_CHANGED: Final = "call.changed"
EV_CHECKIN_CHANGED: Final = "checkin.changed"
EV_CARE_CHANGED: Final = "care.changed"
EV_GATHERING_REMINDER: Final = "gathering.reminder"

# --- error kinds of ``ok: false`` replies (clients treat kinds they do not know as FAILED) -------------

BAD_REQUEST: Final = "bad-request"  # the request's arguments are unusable; the message says why
UNKNOWN_OP: Final = "unknown-op"    # this daemon has no such operation (e.g. it is older than the client)
NOT_FOUND: Final = "not-found"      # the thing the request names does not exist
FAILED: Final = "failed"            # the daemon tried and could not; the message (or its log) says why
