"""Circle ops: create, list, invite, join, members, remove, leave, role, verify. Pure.

Each checks what its request needs from the node's state (``BadInput`` / ``NotFound`` with a message a
person can act on), builds envelopes through the registry, hands them to the node, and answers with its
typed result.
"""

from __future__ import annotations

from ..circles.invites import Token, new_invite_seed, parse_token
from ..circles.membership import CircleSettings
from ..control import requests as rq
from ..control import results as rs
from ..crypto import seal as _seal
from ..crypto.keys import check_name, fingerprint
from ..crypto.onion_key import is_onion
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, PeerDiscovered, SaveState
from ..sync.neighbours import ONION_SEGMENT
from ..vocab import MAX_OPEN_INVITES, MIN_ID_PREFIX
from .common import member_of, publish, roster_op
from .reach import invite_hints
from .present import circle_view, invite_views, joining_views, member_views


def circle_create(node: Node, req: rq.CircleCreate, now: float) -> tuple[rs.CircleCreateResult, list[Effect]]:
    registry = node.registry
    name = check_name(req.name)
    if any(c.roster.name == name for c in registry.circles.values()):
        raise BadInput(f"this node already has a circle called {name!r}; pick another name")
    my_name = check_name(node.identity.name if req.member_name is None else req.member_name)
    settings = CircleSettings(retention_days=req.retention_days, rotate_days=req.rotate_days,
                              share_history=req.share_history, members_invite=req.members_invite)
    circle = registry.add_circle(_seal.random_key(registry.random_bytes), bytes(node.identity.node_id), int(now))
    effects: list[Effect] = [SaveState(node.state)]      # the secret is kept before anything uses it
    _, published = roster_op(node, circle, "create", {"name": name, "member_name": my_name,
                                                      "settings": settings.to_dict(), **circle.new_epoch_fields([])},
                             now)
    return rs.CircleCreateResult(circle=circle_view(node, circle)), effects + published


def circle_list(node: Node, req: rq.CircleList, now: float) -> tuple[rs.CircleListResult, list[Effect]]:
    circles = sorted(node.registry.circles.values(), key=lambda c: (c.roster.name, c.topic))
    return rs.CircleListResult(circles=tuple(circle_view(node, c) for c in circles),
                               joining=joining_views(node, int(now))), []


def circle_invite(node: Node, req: rq.CircleInvite, now: float) -> tuple[rs.CircleInviteResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    t = int(now)
    if node.registry.open_invites(circle, t) >= MAX_OPEN_INVITES:
        raise BadInput(f"{circle.roster.name!r} already has {MAX_OPEN_INVITES} open invites; revoke one "
                       "(`meshcare circle invites` lists them, `meshcare circle revoke` withdraws one) "
                       "or let one expire, then invite again")
    expires = t + int(req.valid_hours * 3600)
    token = Token(circle.topic, circle.founder, new_invite_seed(node.registry.random_bytes), expires,
                  circle.roster.name, invite_hints(node, circle))
    _, effects = roster_op(node, circle, "invite", {"invite": token.invite_key, "role": req.role, "expires": expires},
                           now)
    return rs.CircleInviteResult(circle=circle.topic.hex(), token=token.encode(), invite=token.invite_key.hex(),
                                 role=req.role, expires=expires), effects


def circle_invites(node: Node, req: rq.CircleInvites, now: float) -> tuple[rs.CircleInvitesResult, list[Effect]]:
    return rs.CircleInvitesResult(invites=invite_views(node, node.registry.find(req.circle), int(now))), []


def circle_revoke(node: Node, req: rq.CircleRevoke, now: float) -> tuple[rs.CircleRevokeResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    ref = req.invite.lower()
    keys = [k for k in circle.roster.invites if k.hex().startswith(ref)] if len(ref) >= MIN_ID_PREFIX else []
    if len(keys) != 1:
        raise NotFound("no single invite starts with that; `meshcare circle invites CIRCLE` lists them")
    _, effects = roster_op(node, circle, "revoke", {"invite": keys[0]}, now)
    return rs.CircleRevokeResult(invite=keys[0].hex(), revoked=True), effects


def circle_join(node: Node, req: rq.CircleJoin, now: float) -> tuple[rs.CircleJoinResult, list[Effect]]:
    """Start joining with a token: the joining is saved first, then the request goes to the lobby, and
    the addresses the token names are dialled like discovered peers."""
    token = parse_token(req.token)
    name = check_name(node.identity.name if req.name is None else req.name)
    lobby_topic, request = node.registry.start_join(token, name, int(now))
    effects: list[Effect] = [SaveState(node.state)]
    effects += publish(node, [(lobby_topic, request)], now)
    for hint in token.hints:
        host, _, port = hint.rpartition(":")
        if host and port.isdigit():
            address = (host.strip("[]"), int(port))
            if address not in node.known:
                # an onion hint is dialled through tor, in the onion segment; whose node it is the
                # handshake says
                segment = ONION_SEGMENT if is_onion(address[0]) else "invite"
                effects += node.handle(PeerDiscovered(address, segment), now)
    return rs.CircleJoinResult(circle=token.topic.hex(), name=token.circle_name, status="waiting",
                               expires=token.expires), effects


def circle_members(node: Node, req: rq.CircleMembers, now: float) -> tuple[rs.CircleMembersResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    return rs.CircleMembersResult(circle=circle.topic.hex(), name=circle.roster.name,
                                  members=member_views(node, circle, int(now))), []


def circle_remove(node: Node, req: rq.CircleRemove, now: float) -> tuple[rs.CircleRemoveResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    member = member_of(circle, req.member)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("only a facilitator can remove someone from a circle")
    if member == node.registry.me:
        raise BadInput("to leave a circle yourself, use `meshcare circle leave`")
    _, effects = roster_op(node, circle, "remove", node.registry.removal_fields(circle, member), now)
    return rs.CircleRemoveResult(circle=circle.topic.hex(), removed=member.hex()), effects


def circle_leave(node: Node, req: rq.CircleLeave, now: float) -> tuple[rs.CircleLeaveResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    if circle.roster.role(node.registry.me) is None:
        raise BadInput("this node is not a member of that circle")
    _, effects = roster_op(node, circle, "leave", node.registry.leave_fields(circle), now)
    return rs.CircleLeaveResult(circle=circle.topic.hex(), left=True), effects


def circle_role(node: Node, req: rq.CircleRole, now: float) -> tuple[rs.CircleRoleResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    member = member_of(circle, req.member)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("only a facilitator can grant or drop the facilitator role")
    _, effects = roster_op(node, circle, "role", {"member": member, "role": req.role}, now)
    return rs.CircleRoleResult(circle=circle.topic.hex(), member=member.hex(), role=req.role), effects


def circle_verify(node: Node, req: rq.CircleVerify, now: float) -> tuple[rs.CircleVerifyResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    member = member_of(circle, req.member)
    entry = node.registry.state.circles[circle.topic]
    effects: list[Effect] = []
    if req.confirm:
        entry.verified.add(member)
        effects.append(SaveState(node.state))
    elif req.unverify:
        entry.verified.discard(member)
        effects.append(SaveState(node.state))
    return rs.CircleVerifyResult(member=member.hex(), name=circle.roster.members[member].name,
                                 their_fingerprint=fingerprint(member), my_fingerprint=fingerprint(node.registry.me),
                                 verified=member in entry.verified), effects
