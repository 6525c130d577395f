"""The control ops, as one table: op name -> ``Op(request class, function)``.

Pure. An op function takes the node, its typed request and ``now``, and returns its typed result and
the effects for the shell to carry out (persist, send, save state, notify)::

    def call_create(node: Node, req: CallCreate, now: float) -> tuple[CallCreateResult, list[Effect]]

It reads and writes the node (``node.registry`` to find and build, ``node.handle`` to publish) and
builds its answer from the presenters (``ops/present.py``). ``Op`` (``ops/table.py``) pairs each
function with its request class so that mypy checks the pair, and ``perform`` is the one adapter from
the wire's data to the function and back. The shell adds the ops that describe itself (``status``,
``peers``: links, sockets, uptime) and ``snapshot`` (``ops/snapshot.py`` with the shell's peers and
event number), wraps ``node.rename`` so that the name is kept in the keystore before the circles hear
it, and hands the merged table to its ``Dispatcher``; an op that is in
no table is answered ``unknown-op``. Results are a contract (docs/cli.md, docs/control.md): extend the
records, never rename keys. ``topic.*`` ops for tests and benchmarks are apart, in ``ops/bench.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..control import names as n
from ..control import requests as rq
from ..control import requests_board as rb
from ..control import requests_care as rqc
from ..control import requests_gatherings as rqg
from ..control import requests_ladders as rql
from ..control import requests_recovery as rqr
from ..control import requests_requests as rqq
from ..control import requests_backup as rbk
from ..control import requests_mailbox as rqm
from ..control import requests_reach as rqh
from .backup import backup_bundle
from .board import board_set, need_create, need_done, need_list, need_release, need_take
from .care import (followup_ask, followup_done, followup_list, me_load, safety_list, safety_ping,
                   safety_start)
from .calls import (call_accept, call_claim, call_create, call_offer, call_release, call_resolve, call_show,
                    call_update, calls_list)
from .checkins_plans import checkin_create, checkin_list, checkin_reply, checkin_show, presence_set, roster
from .plans import plan_edit, plan_retract, plan_share, plan_show
from .circles import (circle_create, circle_invite, circle_invites, circle_join, circle_leave, circle_list,
                      circle_members, circle_remove, circle_revoke, circle_role, circle_verify)
from .gatherings import (agreements_set, agreements_show, gathering_cancel, gathering_create, gathering_list,
                         gathering_rsvp, gathering_show)
from .ladders import (avoid_add, avoid_list, avoid_remove, ladder_add, ladder_answer, ladder_list, ladder_remove,
                      ladder_requests)
from .library import library_edit, library_list, library_remove, library_show, library_starters
from .recovery import recovery_collect, recovery_release, recovery_request, recovery_setup, recovery_status
from .rename import node_rename
from .mailbox import mailbox_clear, mailbox_set, mailbox_status
from .reach import circle_reach
from .doctor import node_health
from .requests import request_close, request_create, request_list, request_reply, request_show
from .table import Op, Operation, perform

__all__ = ["OPS", "Op", "Operation", "perform"]

#: Every op the node answers (the shell adds ``status``, ``peers`` and ``snapshot``), by its name in names.py.
OPS: Final[Mapping[str, Operation]] = {
    # this person (the shell wraps it: the name goes to the keystore first)
    n.OP_NODE_RENAME: Op(rq.Rename, node_rename),                  # "node.rename"
    # what `meshcare doctor` asks (the shell adds what it knows)
    n.OP_NODE_HEALTH: Op(rq.NodeHealth, node_health),              # "node.health"
    # circles
    n.OP_CIRCLE_CREATE: Op(rq.CircleCreate, circle_create),        # "circle.create"
    n.OP_CIRCLE_LIST: Op(rq.CircleList, circle_list),              # "circle.list"
    n.OP_CIRCLE_INVITE: Op(rq.CircleInvite, circle_invite),        # "circle.invite"
    n.OP_CIRCLE_INVITES: Op(rq.CircleInvites, circle_invites),     # "circle.invites"
    n.OP_CIRCLE_REVOKE: Op(rq.CircleRevoke, circle_revoke),        # "circle.revoke"
    n.OP_CIRCLE_JOIN: Op(rq.CircleJoin, circle_join),              # "circle.join"
    n.OP_CIRCLE_MEMBERS: Op(rq.CircleMembers, circle_members),     # "circle.members"
    n.OP_CIRCLE_REMOVE: Op(rq.CircleRemove, circle_remove),        # "circle.remove"
    n.OP_CIRCLE_LEAVE: Op(rq.CircleLeave, circle_leave),           # "circle.leave"
    n.OP_CIRCLE_ROLE: Op(rq.CircleRole, circle_role),              # "circle.role"
    n.OP_CIRCLE_VERIFY: Op(rq.CircleVerify, circle_verify),        # "circle.verify"
    n.OP_CIRCLE_REACH: Op(rqh.CircleReach, circle_reach),          # "circle.reach"
    # calls
    n.OP_CALL_CREATE: Op(rq.CallCreate, call_create),              # "call.create"
    n.OP_CALLS_LIST: Op(rq.CallsList, calls_list),                 # "calls.list"
    n.OP_CALL_SHOW: Op(rq.CallShow, call_show),                    # "call.show"
    n.OP_CALL_OFFER: Op(rq.CallOffer, call_offer),                 # "call.offer"
    n.OP_CALL_CLAIM: Op(rq.CallClaim, call_claim),                 # "call.claim"
    n.OP_CALL_RELEASE: Op(rq.CallRelease, call_release),           # "call.release"
    n.OP_CALL_ACCEPT: Op(rq.CallAccept, call_accept),              # "call.accept"
    n.OP_CALL_UPDATE: Op(rq.CallUpdate, call_update),              # "call.update"
    n.OP_CALL_RESOLVE: Op(rq.CallResolve, call_resolve),           # "call.resolve"
    # check-ins
    n.OP_CHECKIN_CREATE: Op(rq.CheckinCreate, checkin_create),     # "checkin.create"
    n.OP_CHECKIN_REPLY: Op(rq.CheckinReply, checkin_reply),        # "checkin.reply"
    n.OP_CHECKIN_SHOW: Op(rq.CheckinShow, checkin_show),           # "checkin.show"
    n.OP_CHECKIN_LIST: Op(rq.CheckinList, checkin_list),           # "checkin.list"
    # availability
    n.OP_PRESENCE_SET: Op(rq.PresenceSet, presence_set),           # "presence.set"
    n.OP_ROSTER: Op(rq.Roster, roster),                            # "roster"
    # support plan
    n.OP_PLAN_SHOW: Op(rq.PlanShow, plan_show),                    # "plan.show"
    n.OP_PLAN_EDIT: Op(rq.PlanEdit, plan_edit),                    # "plan.edit"
    n.OP_PLAN_SHARE: Op(rq.PlanShare, plan_share),                 # "plan.share"
    n.OP_PLAN_RETRACT: Op(rq.PlanRetract, plan_retract),           # "plan.retract"
    # gatherings and the circle's group agreements
    n.OP_GATHERING_CREATE: Op(rqg.GatheringCreate, gathering_create),  # "gathering.create"
    n.OP_GATHERING_LIST: Op(rqg.GatheringList, gathering_list),        # "gathering.list"
    n.OP_GATHERING_SHOW: Op(rqg.GatheringShow, gathering_show),        # "gathering.show"
    n.OP_GATHERING_CANCEL: Op(rqg.GatheringCancel, gathering_cancel),  # "gathering.cancel"
    n.OP_GATHERING_RSVP: Op(rqg.GatheringRsvp, gathering_rsvp),        # "gathering.rsvp"
    n.OP_AGREEMENTS_SHOW: Op(rqg.AgreementsShow, agreements_show),     # "agreements.show"
    n.OP_AGREEMENTS_SET: Op(rqg.AgreementsSet, agreements_set),        # "agreements.set"
    # consent-based ladders, and who not to involve (kept on this node only)
    n.OP_LADDER_ADD: Op(rql.LadderAdd, ladder_add),                # "ladder.add"
    n.OP_LADDER_LIST: Op(rql.LadderList, ladder_list),             # "ladder.list"
    n.OP_LADDER_REQUESTS: Op(rql.LadderRequests, ladder_requests), # "ladder.requests"
    n.OP_LADDER_ANSWER: Op(rql.LadderAnswer, ladder_answer),       # "ladder.answer"
    n.OP_LADDER_REMOVE: Op(rql.LadderRemove, ladder_remove),       # "ladder.remove"
    n.OP_AVOID_ADD: Op(rql.AvoidAdd, avoid_add),                   # "avoid.add"
    n.OP_AVOID_REMOVE: Op(rql.AvoidRemove, avoid_remove),          # "avoid.remove"
    n.OP_AVOID_LIST: Op(rql.AvoidList, avoid_list),                # "avoid.list"
    # follow-up and responder care
    n.OP_FOLLOWUP_ASK: Op(rqc.FollowupAsk, followup_ask),          # "followup.ask"
    n.OP_FOLLOWUP_DONE: Op(rqc.FollowupDone, followup_done),       # "followup.done"
    n.OP_FOLLOWUP_LIST: Op(rqc.FollowupList, followup_list),       # "followup.list"
    n.OP_SAFETY_START: Op(rqc.SafetyStart, safety_start),          # "safety.start"
    n.OP_SAFETY_PING: Op(rqc.SafetyPing, safety_ping),             # "safety.ping"
    n.OP_SAFETY_LIST: Op(rqc.SafetyList, safety_list),             # "safety.list"
    n.OP_ME_LOAD: Op(rqc.Load, me_load),                           # "me.load"
    # private requests to facilitators
    n.OP_REQUEST_CREATE: Op(rqq.RequestCreate, request_create),    # "request.create"
    n.OP_REQUEST_LIST: Op(rqq.RequestList, request_list),          # "request.list"
    n.OP_REQUEST_SHOW: Op(rqq.RequestShow, request_show),          # "request.show"
    n.OP_REQUEST_REPLY: Op(rqq.RequestReply, request_reply),       # "request.reply"
    n.OP_REQUEST_CLOSE: Op(rqq.RequestClose, request_close),       # "request.close"
    # the circle's library
    n.OP_LIBRARY_LIST: Op(rqq.LibraryList, library_list),          # "library.list"
    n.OP_LIBRARY_SHOW: Op(rqq.LibraryShow, library_show),          # "library.show"
    n.OP_LIBRARY_EDIT: Op(rqq.LibraryEdit, library_edit),          # "library.edit"
    n.OP_LIBRARY_REMOVE: Op(rqq.LibraryRemove, library_remove),    # "library.remove"
    n.OP_LIBRARY_STARTERS: Op(rqq.LibraryStarters, library_starters),  # "library.starters"
    # the mutual-aid board
    n.OP_NEED_CREATE: Op(rb.NeedCreate, need_create),              # "need.create"
    n.OP_NEED_LIST: Op(rb.NeedList, need_list),                    # "need.list"
    n.OP_NEED_TAKE: Op(rb.NeedTake, need_take),                    # "need.take"
    n.OP_NEED_RELEASE: Op(rb.NeedRelease, need_release),           # "need.release"
    n.OP_NEED_DONE: Op(rb.NeedDone, need_done),                    # "need.done"
    n.OP_BOARD_SET: Op(rb.BoardSet, board_set),                    # "board.set"
    # backups (the client encrypts what this hands it)
    n.OP_BACKUP_BUNDLE: Op(rbk.BackupBundle, backup_bundle),       # "backup.bundle"
    # social recovery
    n.OP_RECOVERY_SETUP: Op(rqr.RecoverySetup, recovery_setup),    # "recovery.setup"
    n.OP_RECOVERY_STATUS: Op(rqr.RecoveryStatus, recovery_status), # "recovery.status"
    n.OP_RECOVERY_REQUEST: Op(rqr.RecoveryRequest, recovery_request),  # "recovery.request"
    n.OP_RECOVERY_COLLECT: Op(rqr.RecoveryCollect, recovery_collect),  # "recovery.collect"
    n.OP_RECOVERY_RELEASE: Op(rqr.RecoveryRelease, recovery_release),  # "recovery.release"
    # mailboxes (the shell wraps set and status: it knows how each link runs)
    n.OP_MAILBOX_SET: Op(rqm.MailboxSet, mailbox_set),             # "mailbox.set"
    n.OP_MAILBOX_CLEAR: Op(rqm.MailboxClear, mailbox_clear),       # "mailbox.clear"
    n.OP_MAILBOX_STATUS: Op(rqm.MailboxStatus, mailbox_status),    # "mailbox.status"
}
