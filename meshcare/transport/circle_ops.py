"""Control operations for circles, calls, check-ins, availability and plans (the daemon's ``op_*``).

Each operation checks its arguments (``BadInput`` / ``NotFound`` with a message a person can act on),
asks the registry for envelopes, publishes them, saves the local state, and answers with plain JSON-ready
data. The JSON shapes are a contract (docs/cli.md): extend them, never rename keys. Decisions about the
protocol live in ``meshcare.circles``; this is the thin part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .. import envelope as env
from ..circles import calls as cl
from ..circles import checkins as ck
from ..circles import plans as pl
from ..circles import presence as pr
from ..circles.circle import Circle
from ..circles.invites import DEFAULT_VALID_S, Token, new_invite_seed, parse_token
from ..circles.membership import CircleSettings
from ..circles.registry import MAX_OPEN_INVITES, Registry, View
from ..crypto.keys import Identity, check_name, fingerprint
from ..crypto import seal as _seal
from ..errors import BadInput, NotFound
from ..ids import TopicId

_T = TypeVar("_T")
URGENCIES = ("now", "today", "whenever")
NEEDS = ("listen", "company", "practical", "ride")
OFFER_KINDS = ("call", "come_over", "listening", "text")


class _Host(Protocol):
    identity: Identity
    registry: Registry
    port: int

    def now(self) -> float: ...
    def publish(self, items: Sequence[tuple[TopicId, env.Envelope]]) -> None: ...
    def save_state(self) -> None: ...
    def sync_topics(self) -> None: ...
    def advertised_hints(self) -> list[str]: ...


def _str(args: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = args.get(key, None)
    if value is None:
        if required:
            raise BadInput(f"missing {key!r}")
        return default
    if not isinstance(value, str):
        raise BadInput(f"{key!r} must be text")
    return value


def _flag(args: dict[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if type(value) is not bool:
        raise BadInput(f"{key!r} must be true or false")
    return value


def _int_or_none(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise BadInput(f"{key!r} must be an integer")
    return value


def _list(args: dict[str, Any], key: str) -> list[Any]:
    value = args.get(key) or []
    if not isinstance(value, list):
        raise BadInput(f"{key!r} must be a list")
    return value


class CircleOps:
    """Mixed into ``Daemon``; see the module docstring."""

    # --- helpers ----------------------------------------------------------------------------------

    def _t(self: _Host) -> int:
        return int(self.now())

    def _circle(self: _Host, args: dict[str, Any]) -> Circle:
        return self.registry.find(_str(args, "circle"))

    def _names(self: _Host) -> dict[bytes, str]:
        return self.registry.names()

    def _member(self: _Host, circle: Circle, ref: str) -> bytes:
        """A member of ``circle`` by name or unique id prefix."""
        ref = ref.strip()
        members = circle.roster.members.values()
        exact = [m.id for m in members if m.name == ref]
        if len(exact) == 1:
            return exact[0]
        prefix = [m.id for m in members if ref and m.id.hex().startswith(ref.lower())]
        found = exact or prefix
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound(f"nobody called {ref!r} in {circle.roster.name!r}; "
                           f"`meshcare circle members {circle.roster.name}` lists them")
        raise BadInput(f"{ref!r} matches several members; use more of their id")

    def _find_call(self, ref: str) -> tuple[Circle, View, cl.CallState]:
        return self._find(ref, "call", lambda v: v.calls, "`meshcare calls --all` lists them")

    def _find_checkin(self, ref: str) -> tuple[Circle, View, ck.CheckinState]:
        return self._find(ref, "check-in", lambda v: v.checkins, "`meshcare checkins` lists them")

    def _find(self, ref: str, what: str, pick: Callable[[View], Mapping[bytes, _T]],
              hint: str) -> tuple[Circle, View, _T]:
        """One call or check-in, across all circles, by the start of its id (at least 4 hex digits)."""
        host: Any = self
        ref = ref.strip().lower()
        if len(ref) < 4:
            raise BadInput(f"name a {what} by at least 4 characters of its id ({hint})")
        found = []
        for circle in host.registry.circles.values():
            view = host.registry.view(circle)
            found += [(circle, view, item) for key, item in pick(view).items() if key.hex().startswith(ref)]
        if not found:
            raise NotFound(f"no {what} {ref!r} that this node can read; {hint}")
        if len(found) > 1:
            raise BadInput(f"{ref!r} matches several of them; use more of the id")
        return found[0]

    def _post(self: _Host, circle: Circle, kind: str, body: dict[str, Any],
              audience: Iterable[bytes] = ()) -> env.Envelope:
        envelopes = self.registry.post(circle, kind, body, int(self.now()), audience=audience)
        self.publish([(circle.topic, e) for e in envelopes])
        self.save_state()
        return envelopes[-1]

    def _roster(self: _Host, circle: Circle, kind: str, fields: dict[str, Any]) -> env.Envelope:
        e = self.registry.roster_op(circle, kind, fields, int(self.now()))
        self.publish([(circle.topic, e)])
        self.save_state()
        self.sync_topics()
        return e

    def _circle_dict(self: _Host, circle: Circle) -> dict[str, Any]:
        roster = circle.roster
        me = self.registry.me
        role = roster.role(me)
        status = "member" if role else (circle.departure(me) or "left") if me in roster.ever else "joining"
        return {"id": circle.topic.hex(), "name": roster.name, "role": role, "status": status,
                "members": len([m for m in roster.members.values() if m.role != "relay"]),
                "relays": len([m for m in roster.members.values() if m.role == "relay"]),
                "facilitators": len(roster.facilitators), "settings": roster.settings.to_dict(),
                "created": roster.created, "epoch": roster.current}

    # --- circles ----------------------------------------------------------------------------------

    def op_circle_create(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        name = check_name(_str(args, "name"))
        if any(c.roster.name == name for c in host.registry.circles.values()):
            raise BadInput(f"this node already has a circle called {name!r}; pick another name")
        my_name = check_name(_str(args, "member_name", required=False, default=host.identity.name))
        retention, rotate = _int_or_none(args, "retention_days"), _int_or_none(args, "rotate_days")
        settings = CircleSettings(
            retention_days=30 if retention is None else retention,
            rotate_days=7 if rotate is None else rotate,
            share_history=_flag(args, "share_history"),
            members_invite=_flag(args, "members_invite"))
        if not 1 <= settings.retention_days <= 365 or not 0 <= settings.rotate_days <= 365:
            raise BadInput("retention is 1 to 365 days, rotation 0 (off) to 365 days")
        now = host._t()
        circle = host.registry.add_circle(_seal.random_key(), bytes(host.identity.node_id), now)
        host.save_state()
        host._roster(circle, "create", {"name": name, "member_name": my_name, "settings": settings.to_dict(),
                                        **circle.new_epoch_fields([])})
        return {"circle": host._circle_dict(circle)}

    def op_circle_list(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        joining = []
        for entry in host.registry.joining.values():
            if entry.token is None:
                continue
            saved = host.registry.state.joining.get(entry.token.invite_key)
            refused = entry.refused or ("expired" if host._t() >= entry.token.expires else None)
            joining.append({"circle": entry.token.topic.hex(), "circle_name": entry.token.circle_name,
                            "invite": entry.token.invite_key.hex(), "expires": entry.token.expires,
                            "since": saved.since if saved else None,
                            "status": "refused" if refused else "waiting", "refused": refused})
        return {"circles": [host._circle_dict(c) for c in sorted(host.registry.circles.values(),
                                                                 key=lambda c: (c.roster.name, c.topic))],
                "joining": joining}

    def op_circle_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        role = _str(args, "role", required=False, default="member")
        if role not in ("member", "facilitator", "relay"):
            raise BadInput("an invite is for a member, a facilitator or a relay")
        hours = args.get("valid_hours", DEFAULT_VALID_S / 3600)
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
            raise BadInput("an invite is valid for more than 0 and at most 720 hours")
        now = host._t()
        if host.registry.open_invites(circle, now) >= MAX_OPEN_INVITES:
            raise BadInput(f"{circle.roster.name!r} already has {MAX_OPEN_INVITES} open invites; revoke one "
                           "(`meshcare circle invites` lists them, `meshcare circle revoke` withdraws one) "
                           "or let one expire, then invite again")
        seed = new_invite_seed()
        expires = now + int(hours * 3600)
        token = Token(circle.topic, circle.founder, seed, expires, circle.roster.name,
                      tuple(host.advertised_hints()))
        host._roster(circle, "invite", {"invite": token.invite_key, "role": role, "expires": expires})
        return {"circle": circle.topic.hex(), "token": token.encode(), "invite": token.invite_key.hex(),
                "role": role, "expires": expires}

    def op_circle_invites(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        now = host._t()
        names = host._names()
        return {"invites": [{"invite": k.hex(), "role": i.role, "expires": i.expires, "by": i.by.hex(),
                             "by_name": names.get(i.by), "used_by": i.used_by.hex() if i.used_by else None,
                             "used_by_name": names.get(i.used_by) if i.used_by else None,
                             "revoked": i.revoked, "open": i.open_at(now)}
                            for k, i in sorted(circle.roster.invites.items())]}

    def op_circle_revoke(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        ref = _str(args, "invite").lower()
        keys = [k for k in circle.roster.invites if k.hex().startswith(ref)] if len(ref) >= 4 else []
        if len(keys) != 1:
            raise NotFound("no single invite starts with that; `meshcare circle invites CIRCLE` lists them")
        host._roster(circle, "revoke", {"invite": keys[0]})
        return {"invite": keys[0].hex(), "revoked": True}

    def op_circle_join(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        token = parse_token(_str(args, "token"))
        name = check_name(_str(args, "name", required=False, default=host.identity.name))
        lobby_topic, request = host.registry.start_join(token, name, host._t())
        host.save_state()
        host.sync_topics()
        host.publish([(lobby_topic, request)])
        host.add_hints(token.hints)
        return {"circle": token.topic.hex(), "name": token.circle_name, "status": "waiting",
                "expires": token.expires}

    def op_circle_members(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        now = host._t()
        entry = host.registry.state.circles[circle.topic]
        view = host.registry.view(circle)
        presence = pr.fold_presence(circle.posts, now)
        members = []
        for m in sorted(circle.roster.members.values(), key=lambda m: (m.name, m.id)):
            p = presence.get(m.id)
            members.append({"id": m.id.hex(), "name": m.name, "role": m.role, "fingerprint": fingerprint(m.id),
                            "verified": m.id in entry.verified, "me": m.id == host.registry.me,
                            "status": p.status if p else "unknown", "until": p.until if p else None,
                            "load": pr.load(presence, view.calls, m.id)})
        return {"circle": circle.topic.hex(), "name": circle.roster.name, "members": members}

    def op_circle_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        member = host._member(circle, _str(args, "member"))
        if circle.roster.role(host.registry.me) != "facilitator":
            raise BadInput("only a facilitator can remove someone from a circle")
        if member == host.registry.me:
            raise BadInput("to leave a circle yourself, use `meshcare circle leave`")
        host._roster(circle, "remove", host.registry.removal_fields(circle, member))
        host.access_changed()
        return {"circle": circle.topic.hex(), "removed": member.hex()}

    def op_circle_leave(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        if circle.roster.role(host.registry.me) is None:
            raise BadInput("this node is not a member of that circle")
        host._roster(circle, "leave", host.registry.leave_fields(circle))
        host.access_changed()
        return {"circle": circle.topic.hex(), "left": True}

    def op_circle_role(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        member = host._member(circle, _str(args, "member"))
        role = _str(args, "role")
        if role not in ("facilitator", "member"):
            raise BadInput("the role is facilitator or member")
        if circle.roster.role(host.registry.me) != "facilitator":
            raise BadInput("only a facilitator can grant or drop the facilitator role")
        host._roster(circle, "role", {"member": member, "role": role})
        return {"circle": circle.topic.hex(), "member": member.hex(), "role": role}

    def op_circle_verify(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        member = host._member(circle, _str(args, "member"))
        entry = host.registry.state.circles[circle.topic]
        if args.get("confirm"):
            entry.verified.add(member)
            host.save_state()
        elif args.get("unverify"):
            entry.verified.discard(member)
            host.save_state()
        return {"member": member.hex(), "name": circle.roster.members[member].name,
                "their_fingerprint": fingerprint(member), "my_fingerprint": fingerprint(host.registry.me),
                "verified": member in entry.verified}

    # --- calls ------------------------------------------------------------------------------------

    def op_call_create(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        ladder = args.get("ladder") or [{"after": 0, "to": "circle", "members": []}]
        if not isinstance(ladder, list):
            raise BadInput("ladder must be a list of steps")
        steps = []
        for step in ladder:
            if not isinstance(step, dict):
                raise BadInput("each ladder step is {after, to, members}")
            refs = step.get("members") or []
            steps.append({"after": step.get("after", 0), "to": step.get("to", "circle"),
                          "members": [host._member(circle, r) if isinstance(r, str) else r for r in refs]})
        body = {"text": _str(args, "text"), "urgency": _str(args, "urgency", required=False, default="today"),
                "needs": _list(args, "needs"), "reach": args.get("reach"), "consent": _list(args, "consent"),
                "consent_note": args.get("consent_note"), "ladder": steps}
        body = _validated("call", body)
        audience = circle.call_audience(host.registry.me, body["ladder"], 0)
        e = host._post(circle, "call", body, audience)
        return {"call": host._call_dict(circle, e.id)}

    def _call_dict(self, circle: Circle, call_id: bytes) -> dict[str, Any]:
        host: Any = self
        view = host.registry.view(circle)
        state = view.calls[call_id]
        names = host._names()
        out = cl.call_to_dict(state, names)
        audience = host.registry.audience_then(circle, state)
        waiting = sorted(audience - state.received_by - {state.caller})
        out["names"].update({m.hex(): names[m] for m in waiting if m in names})
        out.update({"circle": circle.topic.hex(), "circle_name": circle.roster.name,
                    "audience": len(audience - {state.caller}),
                    "reached": len((state.received_by & audience) - {state.caller}),
                    "waiting_on": [m.hex() for m in waiting], "mine": state.caller == host.registry.me,
                    "claimed_too": host.registry.me in state.also_claimed,
                    "plans": [pl.share_to_dict(s, names) for s in
                              pl.shares_for_call(view.shares, call_id, state.caller)]})
        return out

    def op_calls_list(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        show_all = bool(args.get("all"))
        only = host.registry.find(_str(args, "circle")) if args.get("circle") is not None else None
        out = []
        for circle in host.registry.circles.values():
            if only is not None and circle is not only:
                continue
            for cid, state in host.registry.view(circle).calls.items():
                if show_all or state.status != "resolved":
                    out.append(host._call_dict(circle, cid))
        out.sort(key=lambda c: (c["status"] == "resolved", -c["created"]))
        return {"calls": out}

    def op_call_show(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle, _, state = host._find_call(_str(args, "call"))
        return {"call": host._call_dict(circle, state.id)}

    def _thread(self, args: dict[str, Any], kind: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Post ``kind`` in a call's thread. Refused (BadInput) on a resolved call: the fold would ignore
        it on every node, so posting it would only say something that never shows."""
        host: Any = self
        circle, _, state = host._find_call(_str(args, "call"))
        if state.status == "resolved":
            raise BadInput(f"this call was resolved {_by(host, state)}; nothing more can be added to it. "
                           "If someone needs support again, start a new call")
        e = host._post(circle, kind, _validated(kind, {"call": state.id, **extra}))
        return {"id": e.id.hex(), "call": host._call_dict(circle, state.id)}

    def op_call_offer(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        kind = _str(args, "kind")
        if kind not in OFFER_KINDS:
            raise BadInput(f"an offer is one of {', '.join(OFFER_KINDS)}")
        _, _, state = host._find_call(_str(args, "call"))
        if state.caller == host.registry.me:
            raise BadInput("this is your own call; others offer support in it (post an update instead)")
        return self._thread(args, "offer", {"kind": kind, "text": _str(args, "text", required=False)})

    def op_call_claim(self, args: dict[str, Any]) -> dict[str, Any]:
        """Claim a call. ``have_it`` says whether this node holds it now: in a race the claim first in
        the circle's order wins on every node, and the result names who has it."""
        host: Any = self
        circle, _, state = host._find_call(_str(args, "call"))
        if state.caller == host.registry.me:
            raise BadInput("this is your own call; others claim it")
        if state.claimer is not None and state.claimer != host.registry.me and state.status != "resolved":
            raise BadInput(f"{host._names().get(state.claimer, 'someone')} already has this call; "
                           "offer help in its thread instead")
        out = self._thread(args, "claim", {})
        out["have_it"] = out["call"]["claimer"] == host.registry.me.hex()
        if not out["have_it"]:
            host.registry.claim_told(circle.topic, state.id)
        return out

    def op_call_release(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        _, _, state = host._find_call(_str(args, "call"))
        if state.status != "resolved" and host.registry.me not in ({state.claimer} | state.also_claimed):
            raise BadInput("you have not claimed this call, so there is nothing to let go of")
        return self._thread(args, "release", {})

    def op_call_accept(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        _, _, state = host._find_call(_str(args, "call"))
        if state.caller != host.registry.me:
            raise BadInput("only the person who made the call accepts offers")
        ref = _str(args, "offer").lower()
        offers = [o.id for o in state.offers if len(ref) >= 4 and o.id.hex().startswith(ref)]
        if len(offers) != 1:
            raise NotFound("no single offer starts with that; `meshcare call show CALL` lists them")
        return self._thread(args, "accept", {"offer": offers[0]})

    def op_call_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._thread(args, "update", {"text": _str(args, "text")})

    def op_call_resolve(self, args: dict[str, Any]) -> dict[str, Any]:
        """Resolve a call: its caller, whoever has it, or a facilitator (a call whose claimer is gone
        must not stay open for ever). Resolving a resolved call posts nothing and says so
        (``already_resolved``)."""
        host: Any = self
        circle, _, state = host._find_call(_str(args, "call"))
        if state.status == "resolved":
            return {"id": None, "already_resolved": True, "call": host._call_dict(circle, state.id)}
        if (host.registry.me not in (state.caller, state.claimer)
                and host.registry.me not in circle.roster.facilitators):
            raise BadInput("the person who made the call, whoever has it, or a facilitator resolves it")
        followup = _int_or_none(args, "followup_at")
        if followup is not None and followup <= host._t():
            raise BadInput("a follow-up time must be in the future")
        out = self._thread(args, "resolve", {"followup_at": followup})
        out["already_resolved"] = False
        return out

    # --- check-ins --------------------------------------------------------------------------------

    def op_checkin_create(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle = host._circle(args)
        if circle.roster.role(host.registry.me) != "facilitator":
            raise BadInput("check-ins are sent by facilitators")
        body: dict[str, Any] = {"prompt": _str(args, "prompt"),
                                "visibility": _str(args, "visibility", required=False, default="facilitators")}
        if args.get("options"):
            body["options"] = _list(args, "options")
        e = host._post(circle, "checkin", _validated("checkin", body))
        return {"checkin": host._checkin_dict(circle, e.id)}

    def _checkin_dict(self, circle: Circle, checkin: bytes) -> dict[str, Any]:
        host: Any = self
        state = host.registry.view(circle).checkins[checkin]
        readers = circle.roster.readers - {state.author}
        out = ck.checkin_to_dict(state, host._names(), readers)
        out.update({"circle": circle.topic.hex(), "circle_name": circle.roster.name})
        return out

    def op_checkin_reply(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle, _, state = host._find_checkin(_str(args, "checkin"))
        option = args.get("option")
        options = list(state.options)
        if isinstance(option, str) and not option.isdigit():
            matches = [i for i, o in enumerate(options) if o.lower().startswith(option.lower())]
            if len(matches) != 1:
                raise BadInput(f"choose one of: {'; '.join(f'{i + 1} {o}' for i, o in enumerate(options))}")
            index = matches[0]
        elif isinstance(option, str) or (type(option) is int):
            index = int(option) - 1
        else:
            raise BadInput("choose an option by its number or its text")
        if not 0 <= index < len(options):
            raise BadInput(f"choose 1 to {len(options)}")
        e = host._post(circle, "checkin_reply", _validated("checkin_reply", {
            "checkin": state.id, "option": index, "text": _str(args, "text", required=False)}))
        suggest = index == len(options) - 1 and options[-1] == "need support now"
        return {"id": e.id.hex(), "checkin": host._checkin_dict(circle, state.id), "option": options[index],
                "suggest_call": suggest}

    def op_checkin_show(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circle, _, state = host._find_checkin(_str(args, "checkin"))
        return {"checkin": host._checkin_dict(circle, state.id)}

    def op_checkin_list(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        out = [host._checkin_dict(c, cid) for c in host.registry.circles.values()
               for cid in host.registry.view(c).checkins]
        out.sort(key=lambda c: -c["created"])
        return {"checkins": out}

    # --- availability -----------------------------------------------------------------------------

    def op_presence_set(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        status = _str(args, "status")
        body = _validated("presence", {"status": status, "until": _int_or_none(args, "until"),
                                       "cap": _int_or_none(args, "cap")})
        circles = [host._circle(args)] if args.get("circle") else [
            c for c in host.registry.circles.values() if c.roster.role(host.registry.me) in ("member", "facilitator")]
        if not circles:
            raise NotFound("this node is in no circle yet")
        for circle in circles:
            host._post(circle, "presence", body)
        return {"status": status, "until": body["until"], "cap": body["cap"],
                "circles": [c.topic.hex() for c in circles]}

    def op_roster(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        circles = [host._circle(args)] if args.get("circle") else list(host.registry.circles.values())
        now = host._t()
        out = []
        for circle in circles:
            view = host.registry.view(circle)
            rows = pr.roster(pr.fold_presence(circle.posts, now), view.calls, circle.roster.readers, host._names())
            out.append({"circle": circle.topic.hex(), "name": circle.roster.name, "roster": rows})
        return {"circles": out}

    # --- support plan -----------------------------------------------------------------------------

    def op_plan_show(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        plan = host.registry.state.plan
        shares = []
        for circle in host.registry.circles.values():
            for s in host.registry.view(circle).shares.values():
                if s.author == host.registry.me:
                    shares.append({**pl.share_to_dict(s, host._names()), "circle": circle.topic.hex()})
        return {"plan": plan, "shares": shares}

    def op_plan_edit(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        current = dict(host.registry.state.plan or {})
        for key in ("helps", "avoid", "contact", "other"):
            if key in args and args[key] is not None:
                current[key] = _str(args, key)
        plan = pl.Plan.from_dict(current)
        host.registry.state.plan = plan.to_dict()
        host.save_state()
        return {"plan": host.registry.state.plan}

    def op_plan_share(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        plan = host.registry.state.plan
        if not plan:
            raise BadInput("you have no support plan yet; write one with `meshcare plan edit`")
        if args.get("call"):
            circle, _, state = host._find_call(_str(args, "call"))
            if state.caller != host.registry.me:
                raise BadInput("you can share your plan in your own calls")
            if state.claimer is None:
                raise BadInput("nobody has this call yet; share your plan once someone claims it")
            e = host._post(circle, "plan_share", _validated("plan_share", {"to": "call", "call": state.id,
                                                                          "plan": plan}), [state.claimer])
        else:
            circle = host._circle(args)
            e = host._post(circle, "plan_share", _validated("plan_share", {"to": "circle", "call": None,
                                                                          "plan": plan}))
        return {"share": e.id.hex(), "circle": circle.topic.hex()}

    def op_plan_retract(self, args: dict[str, Any]) -> dict[str, Any]:
        host: Any = self
        ref = _str(args, "share").lower()
        for circle in host.registry.circles.values():
            for sid, s in host.registry.view(circle).shares.items():
                if len(ref) >= 4 and sid.hex().startswith(ref) and s.author == host.registry.me:
                    e = host._post(circle, "plan_retract", _validated("plan_retract", {"share": sid}))
                    return {"retracted": sid.hex(), "id": e.id.hex()}
        raise NotFound("no share of your plan starts with that; `meshcare plan show` lists them")


def _validated(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check a post body built from a request; a person's mistake is BadInput, not a protocol error."""
    from ..circles import posts as ps
    from ..errors import RemoteProtocolError
    try:
        return ps.validate(kind, body)
    except RemoteProtocolError as exc:
        raise BadInput(str(exc).replace("malformed ", "")) from None


def _by(host: Any, state: cl.CallState) -> str:
    """``by ann`` (or ``by you``) for a resolved call's message."""
    if state.resolved_by == host.registry.me:
        return "by you"
    return f"by {host._names().get(state.resolved_by, 'someone')}"


def _ladder(state: cl.CallState) -> list[dict[str, Any]]:
    return [{"after": s.after, "to": s.to, "members": list(s.members)} for s in state.ladder]

