"""The control ops, as one table: op name -> a plain function ``(node, args, now) -> (result, effects)``.

Pure. An op reads and writes the node (``node.registry`` to find and build, ``node.handle`` to
publish) and returns the JSON-ready result for the client and the effects for the shell to carry out
(persist, send, save state, notify). The shell adds the ops that describe itself (``status``,
``peers``: links, sockets, uptime) and hands the merged table to its ``Dispatcher``; an op that is in
no table is answered ``unknown-op``. Results are a contract (docs/cli.md, docs/control.md): extend
them, never rename keys. ``topic.*`` ops for tests and benchmarks are apart, in ``ops/bench.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .calls import (call_accept, call_claim, call_create, call_offer, call_release, call_resolve, call_show,
                    call_update, calls_list)
from .checkins_plans import (checkin_create, checkin_list, checkin_reply, checkin_show, plan_edit, plan_retract,
                             plan_share, plan_show, presence_set, roster)
from .circles import (circle_create, circle_invite, circle_invites, circle_join, circle_leave, circle_list,
                      circle_members, circle_remove, circle_revoke, circle_role, circle_verify)
from .common import Args, Operation, Result

__all__ = ["OPS", "Args", "Operation", "Result"]

OPS: Final[Mapping[str, Operation]] = {
    # circles
    "circle.create": circle_create,
    "circle.list": circle_list,
    "circle.invite": circle_invite,
    "circle.invites": circle_invites,
    "circle.revoke": circle_revoke,
    "circle.join": circle_join,
    "circle.members": circle_members,
    "circle.remove": circle_remove,
    "circle.leave": circle_leave,
    "circle.role": circle_role,
    "circle.verify": circle_verify,
    # calls
    "call.create": call_create,
    "calls.list": calls_list,
    "call.show": call_show,
    "call.offer": call_offer,
    "call.claim": call_claim,
    "call.release": call_release,
    "call.accept": call_accept,
    "call.update": call_update,
    "call.resolve": call_resolve,
    # check-ins
    "checkin.create": checkin_create,
    "checkin.reply": checkin_reply,
    "checkin.show": checkin_show,
    "checkin.list": checkin_list,
    # availability
    "presence.set": presence_set,
    "roster": roster,
    # support plan
    "plan.show": plan_show,
    "plan.edit": plan_edit,
    "plan.share": plan_share,
    "plan.retract": plan_retract,
}
