"""Circle ops: create, list, invite, join, members, remove, leave, role, verify. Pure.

Each checks its arguments (``BadInput`` / ``NotFound`` with a message a person can act on), builds
envelopes through the registry, hands them to the node, and answers with plain JSON-ready data.
"""

from __future__ import annotations

from ..circles import presence as pr
from ..circles.invites import DEFAULT_VALID_S, Token, new_invite_seed, parse_token
from ..circles.membership import CircleSettings
from ..circles.registry import MAX_OPEN_INVITES
from ..crypto import seal as _seal
from ..crypto.keys import check_name, fingerprint
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, PeerDiscovered, SaveState
from .common import Args, Result, circle_dict, circle_of, flag, int_or_none, member_of, publish, roster, text


def circle_create(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    registry = node.registry
    name = check_name(text(args, "name"))
    if any(c.roster.name == name for c in registry.circles.values()):
        raise BadInput(f"this node already has a circle called {name!r}; pick another name")
    my_name = check_name(text(args, "member_name", required=False, default=node.identity.name))
    retention, rotate = int_or_none(args, "retention_days"), int_or_none(args, "rotate_days")
    settings = CircleSettings(
        retention_days=30 if retention is None else retention,
        rotate_days=7 if rotate is None else rotate,
        share_history=flag(args, "share_history"),
        members_invite=flag(args, "members_invite"))
    if not 1 <= settings.retention_days <= 365 or not 0 <= settings.rotate_days <= 365:
        raise BadInput("retention is 1 to 365 days, rotation 0 (off) to 365 days")
    circle = registry.add_circle(_seal.random_key(registry.random_bytes), bytes(node.identity.node_id), int(now))
    effects: list[Effect] = [SaveState(node.state)]      # the secret is kept before anything uses it
    _, published = roster(node, circle, "create", {"name": name, "member_name": my_name,
                                                   "settings": settings.to_dict(), **circle.new_epoch_fields([])}, now)
    return {"circle": circle_dict(node, circle)}, effects + published


def circle_list(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    registry = node.registry
    joining = []
    for entry in registry.joining.values():
        if entry.token is None:
            continue
        saved = registry.state.joining.get(entry.token.invite_key)
        refused = entry.refused or ("expired" if int(now) >= entry.token.expires else None)
        joining.append({"circle": entry.token.topic.hex(), "circle_name": entry.token.circle_name,
                        "invite": entry.token.invite_key.hex(), "expires": entry.token.expires,
                        "since": saved.since if saved else None,
                        "status": "refused" if refused else "waiting", "refused": refused})
    circles = sorted(registry.circles.values(), key=lambda c: (c.roster.name, c.topic))
    return {"circles": [circle_dict(node, c) for c in circles], "joining": joining}, []


def circle_invite(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    role = text(args, "role", required=False, default="member")
    if role not in ("member", "facilitator", "relay"):
        raise BadInput("an invite is for a member, a facilitator or a relay")
    hours = args.get("valid_hours", DEFAULT_VALID_S / 3600)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
        raise BadInput("an invite is valid for more than 0 and at most 720 hours")
    t = int(now)
    if node.registry.open_invites(circle, t) >= MAX_OPEN_INVITES:
        raise BadInput(f"{circle.roster.name!r} already has {MAX_OPEN_INVITES} open invites; revoke one "
                       "(`meshcare circle invites` lists them, `meshcare circle revoke` withdraws one) "
                       "or let one expire, then invite again")
    expires = t + int(hours * 3600)
    token = Token(circle.topic, circle.founder, new_invite_seed(node.registry.random_bytes), expires, circle.roster.name, node.hints)
    _, effects = roster(node, circle, "invite", {"invite": token.invite_key, "role": role, "expires": expires}, now)
    return {"circle": circle.topic.hex(), "token": token.encode(), "invite": token.invite_key.hex(),
            "role": role, "expires": expires}, effects


def circle_invites(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    names = node.registry.names()
    return {"invites": [{"invite": k.hex(), "role": i.role, "expires": i.expires, "by": i.by.hex(),
                         "by_name": names.get(i.by), "used_by": i.used_by.hex() if i.used_by else None,
                         "used_by_name": names.get(i.used_by) if i.used_by else None,
                         "revoked": i.revoked, "open": i.open_at(int(now))}
                        for k, i in sorted(circle.roster.invites.items())]}, []


def circle_revoke(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    ref = text(args, "invite").lower()
    keys = [k for k in circle.roster.invites if k.hex().startswith(ref)] if len(ref) >= 4 else []
    if len(keys) != 1:
        raise NotFound("no single invite starts with that; `meshcare circle invites CIRCLE` lists them")
    _, effects = roster(node, circle, "revoke", {"invite": keys[0]}, now)
    return {"invite": keys[0].hex(), "revoked": True}, effects


def circle_join(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    """Start joining with a token: the joining is saved first, then the request goes to the lobby, and
    the addresses the token names are dialled like discovered peers."""
    token = parse_token(text(args, "token"))
    name = check_name(text(args, "name", required=False, default=node.identity.name))
    lobby_topic, request = node.registry.start_join(token, name, int(now))
    effects: list[Effect] = [SaveState(node.state)]
    effects += publish(node, [(lobby_topic, request)], now)
    for hint in token.hints:
        host, _, port = hint.rpartition(":")
        if host and port.isdigit():
            address = (host.strip("[]"), int(port))
            if address not in node.known:
                effects += node.handle(PeerDiscovered(address, "invite"), now)
    return {"circle": token.topic.hex(), "name": token.circle_name, "status": "waiting",
            "expires": token.expires}, effects


def circle_members(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    registry = node.registry
    circle = circle_of(node, args)
    entry = registry.state.circles[circle.topic]
    view = registry.view(circle)
    presence = pr.fold_presence(circle.posts, int(now))
    members = []
    for m in sorted(circle.roster.members.values(), key=lambda m: (m.name, m.id)):
        p = presence.get(m.id)
        members.append({"id": m.id.hex(), "name": m.name, "role": m.role, "fingerprint": fingerprint(m.id),
                        "verified": m.id in entry.verified, "me": m.id == registry.me,
                        "status": p.status if p else "unknown", "until": p.until if p else None,
                        "load": pr.load(presence, view.calls, m.id)})
    return {"circle": circle.topic.hex(), "name": circle.roster.name, "members": members}, []


def circle_remove(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    member = member_of(circle, text(args, "member"))
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("only a facilitator can remove someone from a circle")
    if member == node.registry.me:
        raise BadInput("to leave a circle yourself, use `meshcare circle leave`")
    _, effects = roster(node, circle, "remove", node.registry.removal_fields(circle, member), now)
    return {"circle": circle.topic.hex(), "removed": member.hex()}, effects


def circle_leave(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    if circle.roster.role(node.registry.me) is None:
        raise BadInput("this node is not a member of that circle")
    _, effects = roster(node, circle, "leave", node.registry.leave_fields(circle), now)
    return {"circle": circle.topic.hex(), "left": True}, effects


def circle_role(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    member = member_of(circle, text(args, "member"))
    role = text(args, "role")
    if role not in ("facilitator", "member"):
        raise BadInput("the role is facilitator or member")
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("only a facilitator can grant or drop the facilitator role")
    _, effects = roster(node, circle, "role", {"member": member, "role": role}, now)
    return {"circle": circle.topic.hex(), "member": member.hex(), "role": role}, effects


def circle_verify(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    member = member_of(circle, text(args, "member"))
    entry = node.registry.state.circles[circle.topic]
    effects: list[Effect] = []
    if args.get("confirm"):
        entry.verified.add(member)
        effects.append(SaveState(node.state))
    elif args.get("unverify"):
        entry.verified.discard(member)
        effects.append(SaveState(node.state))
    return {"member": member.hex(), "name": circle.roster.members[member].name,
            "their_fingerprint": fingerprint(member), "my_fingerprint": fingerprint(node.registry.me),
            "verified": member in entry.verified}, effects
