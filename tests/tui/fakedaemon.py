"""A fake control daemon for the terminal UI's tests: the real protocol, canned state, no node behind it.

It listens on a Unix socket with asyncio (in the test's own loop, started on first connect), speaks the
control protocol through the real ``ControlConnection``, reads every request with the typed API exactly as
the daemon does (``api.read_request``), and answers from ``FakeState``: typed records (``api.Call``,
``api.Checkin``, ``api.Member`` ...) built here. Ops change the state and publish the events the real
daemon would (``call.changed`` with the call's view, ``presence``, ``checkin.changed`` ...), numbered
with ``seq`` so the snapshot rule holds.

Test controls: ``push(event)`` sends any event; ``stop()`` drops every connection and goes away (the
socket disappears, like a stopped daemon); ``start()`` comes back (``restart_seq``: numbers start at 1
again, as after a daemon restart); ``delay`` answers slowly; ``fail[op] = (kind, message)`` refuses an
op; ``asked`` records every request (op, args).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from meshcare import vocab
from meshcare.control import api
from meshcare.control.protocol import ControlConnection, Request, Role
from meshcare.errors import BadInput, NotFound, UnknownOp
from meshcare.tui.client import Connection

#: The tests' fixed clock: every time below is relative to it.
NOW = 1_760_000_000


def hid(tag: str, digits: int = 64) -> str:
    """A stable fake id (hex) for a name."""
    return hashlib.sha256(tag.encode()).hexdigest()[:digits]


ME = hid("sam")
BEN = hid("ben")
CHLOE = hid("chloe")
DAN = hid("dan")
EVE = hid("eve")             # not in the circle at first: she joins in some tests
ELM = hid("elm", 32)
NAMES = {ME: "Sam", BEN: "Ben Okafor", CHLOE: "Chloe Hart", DAN: "Dan", EVE: "Eve"}
SETTINGS = api.CircleSettings(retention_days=30, rotate_days=7, share_history=False, members_invite=True)


def member(ident: str, role: str = "member", status: str = "unknown", until: int | None = None,
           verified: bool = False, load: int = 0) -> api.Member:
    return api.Member(id=ident, name=NAMES[ident], role=role, fingerprint=f"{int(ident[:10], 16):013d}"[:12],
                      verified=verified, me=ident == ME, status=status, until=until, load=load)


def elm_circle(role: str = "member") -> api.CircleSnapshot:
    members = (member(ME, role, "available", NOW + 3 * 3600), member(BEN, "member", "available", NOW + 7200,
                                                                     verified=True),
               member(CHLOE, "facilitator"), member(DAN, "member", "away", NOW + 3600))
    roster = tuple(api.RosterRow(member=m.id, name=m.name, status=m.status, until=m.until, cap=None, load=0,
                                 full=False) for m in members)
    circle = api.Circle(id=ELM, name="Elm St", role=role, status="member", members=4, relays=0, facilitators=1,
                        settings=SETTINGS, created=NOW - 30 * 86400, epoch=3)
    return api.CircleSnapshot(circle=circle, members=members, roster=roster, invites=(), sync="caught_up")


def make_call(tag: str, caller: str, text: str, *, urgency: str = "today", status: str = "open",
              claimer: str | None = None, age: int = 180, consent: tuple[str, ...] = (),
              needs: tuple[str, ...] = (), reached: int = 2, offers: tuple[api.Offer, ...] = (),
              updates: tuple[api.Update, ...] = ()) -> api.Call:
    audience = [m for m in (ME, BEN, CHLOE, DAN) if m != caller]
    return api.Call(
        id=hid(tag), caller=caller, text=text, urgency=urgency, needs=needs, reach=None, consent=consent,
        consent_note=None, created=NOW - age, status=status, claimer=claimer,
        claimed_at=NOW - 60 if claimer else None, also_claimed=(), offers=offers,
        accepted=tuple(o.id for o in offers if o.accepted), updates=updates,
        resolved_by=claimer if status == "resolved" else None, resolved_at=NOW - 30 if status == "resolved" else None,
        followup_at=None, step=0, received_by=tuple(audience[:reached]), ladder=(), checkins=(), names=dict(NAMES),
        circle=ELM, circle_name="Elm St", audience=len(audience), reached=reached,
        waiting_on=tuple(audience[reached:]), mine=caller == ME, claimed_too=False, plans=())


def make_checkin(tag: str, prompt: str, *, author: str = CHLOE, answered: tuple[str, ...] = (),
                 visibility: str = "facilitators") -> api.Checkin:
    options = vocab.DEFAULT_OPTIONS
    asked = [m for m in (ME, BEN, CHLOE, DAN) if m != author]
    return api.Checkin(id=hid(tag), author=author, prompt=prompt, options=options, visibility=visibility, call=None,
                       closes_at=None, created=NOW - 7200, replies=(), tally={o: 0 for o in options}, answered=0,
                       not_answered=tuple(m for m in asked if m not in answered), names=dict(NAMES), circle=ELM,
                       circle_name="Elm St")


def make_followup(call: str, asker: str, who: str, *, due: int = NOW + 86400, again: int | None = None,
                  todo: str | None = None, done_at: int | None = None) -> api.Followup:
    return api.Followup(id=hid("followup" + call), call=call, circle=ELM, circle_name="Elm St", asker=asker,
                        asker_name=NAMES[asker], who=who, who_name=NAMES[who], due=due, again=again, done_at=done_at,
                        again_done_at=None, todo=todo, mine=who == ME, asked=asker == ME)


def make_timer(tag: str, person: str, *, every: int = 15, note: str = "", last: int = NOW,
               overdue: bool = False) -> api.Timer:
    return api.Timer(id=hid(tag), circle=ELM, circle_name="Elm St", person=person, name=NAMES[person], every=every,
                     note=note, started=last, last=last, there_at=None, ended_at=None, next_ok_at=last + every * 60,
                     overdue_at=last + every * 60 + vocab.SAFETY_GRACE_S, overdue=overdue, mine=person == ME)


def standard_calls() -> dict[str, api.Call]:
    calls = [
        make_call("ben-call", BEN, "Rough night, could someone come by? I would rather not talk on the phone.",
                  urgency="now", consent=("no_police", "no_calls"), needs=("company",), age=180),
        make_call("chloe-call", CHLOE, "Need a ride to the clinic on Thursday.", urgency="whenever",
                  status="claimed", claimer=DAN, needs=("ride",), age=5400, reached=3),
        make_call("dan-call", DAN, "Could use someone to listen tonight.", status="resolved", claimer=BEN,
                  age=86400, reached=3),
    ]
    return {c.id: c for c in calls}


def make_need(tag: str, author: str, text: str, *, category: str = "other", kind: str = "need", status: str = "open",
              taker: str | None = None, anonymous: bool = False, age: int = 3600, when: str = "",
              reach: str | None = None) -> api.Need:
    shown = None if anonymous else author
    people = [p for p in (shown, taker) if p is not None]
    return api.Need(id=hid(tag), circle=ELM, circle_name="Elm St", kind=kind, category=category, text=text,
                    when=when, status=status, anonymous=anonymous, author=shown, mine=author == ME, taker=taker,
                    taken_by_me=taker == ME,
                    done_by=taker if status == "done" else None, reach=reach, created=NOW - age,
                    names={p: NAMES[p] for p in people})


def standard_needs() -> dict[str, api.Need]:
    needs = [
        make_need("ben-ride", BEN, "A ride to the food bank on Saturday morning", category="ride", when="Sat 9:00",
                  age=1800),
        make_need("soup", CHLOE, "I made too much soup: enough for two more people", category="food", kind="offer",
                  age=7200),
        make_need("dan-sofa", DAN, "Help carrying a sofa up two floors", category="other", status="taken", taker=BEN,
                  age=20000),
    ]
    return {n.id: n for n in needs}


class FakeState:
    """The canned state the fake daemon serves: Sam's node in one circle, Elm St."""

    def __init__(self, *, circles: bool = True, role: str = "member") -> None:
        self.node_id, self.name = ME, "Sam"
        self.circles: dict[str, api.CircleSnapshot] = {ELM: elm_circle(role)} if circles else {}
        self.calls: dict[str, api.Call] = standard_calls() if circles else {}
        checkin = make_checkin("week", "How is your week going?")
        self.checkins: dict[str, api.Checkin] = {checkin.id: checkin} if circles else {}
        self.peers: dict[str, api.Peer] = ({"127.0.0.1:7448": api.Peer(node_id=BEN, address="127.0.0.1:7448",
                                                                         linked=True)} if circles else {})
        self.joining: dict[str, api.Joining] = {}
        self.plan: api.PlanParts | None = None
        self.shares: tuple[api.OwnShare, ...] = ()
        self.needs: dict[str, api.Need] = standard_needs() if circles else {}
        self.boards: dict[str, api.Board] = (
            {ELM: api.Board(circle=ELM, circle_name="Elm St", anonymous=False, facilitator=role == "facilitator",
                            open=2)} if circles else {})
        from .fake_gatherings import standard_gatherings
        self.gatherings: dict[str, api.Gathering] = standard_gatherings() if circles else {}
        self.agreements: tuple[str, ...] = vocab.DEFAULT_AGREEMENTS
        # follow-ups (by call), safety timers (by id) and this person's load: read with their list ops
        self.followups: dict[str, api.Followup] = {}
        self.timers: dict[str, api.Timer] = {}
        self.load = api.LoadResult(days=7, since=NOW - 7 * 86400, took=0, holding=0, last=None)

    def snapshot(self, seq: int) -> api.SnapshotResult:
        return api.SnapshotResult(seq=seq, node_id=self.node_id, name=self.name, circles=tuple(self.circles.values()),
                                  joining=tuple(self.joining.values()), calls=tuple(self.calls.values()),
                                  checkins=tuple(self.checkins.values()), plan=self.plan, shares=self.shares,
                                  peers=tuple(self.peers.values()), needs=tuple(self.needs.values()),
                                  boards=tuple(self.boards.values()),
                                  gatherings=tuple(g for g in self.gatherings.values()
                                                   if not g.cancelled and NOW < g.over_at))

    def find_call(self, ref: str) -> api.Call:
        found = [c for c in self.calls.values() if c.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no call starts with {ref!r}")
        return found[0]

    def find_checkin(self, ref: str) -> api.Checkin:
        found = [c for c in self.checkins.values() if c.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no check-in starts with {ref!r}")
        return found[0]

    def circle(self, ref: str) -> api.CircleSnapshot:
        for snap in self.circles.values():
            if snap.circle.id.startswith(ref) or snap.circle.name.casefold() == ref.casefold():
                return snap
        raise NotFound(f"no circle {ref!r} on this node")


class FakeDaemon:
    """See the module docstring. ``connect`` is the connector to hand to ``make_app``."""

    def __init__(self, path: Path, state: FakeState | None = None) -> None:
        self.path = path
        self.state = state or FakeState()
        self.seq = 0
        self.delay = 0.0
        self.fail: dict[str, tuple[str, str]] = {}
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.server: asyncio.Server | None = None
        self.writers: list[tuple[asyncio.StreamWriter, ControlConnection]] = []
        #: start listening on the first ``connect`` (in the test's loop); cleared by ``stop``
        self.autostart = True
        self.tasks: set[asyncio.Task[None]] = set()
        from tests.tui.fake_ladders import FakeLadders, ladder_ops
        from .fake_gatherings import gathering_ops
        self.ladders = FakeLadders()
        self.ops: dict[str, Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]] = (
            _ops(self) | ladder_ops(self) | _board_ops(self))
        self.ops.update(gathering_ops(self))
        from . import fake_requests        # private requests and the library (its own module: it imports this one)
        self.care = fake_requests.FakeCare()
        self.ops.update(fake_requests.ops(self))

    # --- life ------------------------------------------------------------------------------------

    async def start(self, *, restart_seq: bool = False) -> None:
        self.autostart = False
        if restart_seq:
            self.seq = 0
        self.server = await asyncio.start_unix_server(self._serve, path=os.fspath(self.path))

    async def stop(self) -> None:
        """Go away: stop listening, remove the socket, close every connection."""
        self.autostart = False
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer, _ in self.writers:
            writer.close()
        self.writers.clear()
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def connect(self) -> Connection:
        """The connector for the app: starts the server in the running loop on first use."""
        if self.server is None and self.autostart:
            await self.start()
        return await Connection.open(self.path, timeout=5.0)

    @property
    def subscribers(self) -> int:
        return sum(1 for _, conn in self.writers if conn.subscribed)

    # --- events ----------------------------------------------------------------------------------

    def push(self, event: api.Event) -> api.Event:
        """Number ``event`` and send it to every subscriber (nobody gets it while they are away)."""
        self.seq += 1
        event = dataclasses.replace(event, seq=self.seq)
        for writer, conn in self.writers:
            if conn.subscribed:
                writer.write(conn.send_event(event.NAME, event.to_data()))
        return event

    def set_call(self, call: api.Call, change: str = "updated", parts: tuple[str, ...] = ()) -> None:
        """Change (or add) a call and tell subscribers, as the daemon does."""
        self.state.calls[call.id] = call
        self.push(api.CallChangedEvent(circle=call.circle, call=call.id, change=change, parts=parts, view=call))

    def set_checkin(self, checkin: api.Checkin, change: str = "reply", members: tuple[str, ...] = ()) -> None:
        self.state.checkins[checkin.id] = checkin
        self.push(api.CheckinChangedEvent(circle=checkin.circle, checkin=checkin.id, change=change, members=members,
                                          view=checkin))

    # --- the connection --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ControlConnection(Role.DAEMON)
        writer.write(conn.send_hello())
        entry = (writer, conn)
        self.writers.append(entry)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for message in conn.receive_data(data):
                    if isinstance(message, Request):
                        task = asyncio.get_running_loop().create_task(self._answer(writer, conn, message))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if entry in self.writers:
                self.writers.remove(entry)
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, conn: ControlConnection, message: Request) -> None:
        self.asked.append((message.op, message.args))
        if self.delay:
            await asyncio.sleep(self.delay)
        if writer.is_closing():
            return
        if message.op in self.fail:
            kind, text = self.fail[message.op]
            writer.write(conn.send_error(message.id, kind, text))
            return
        try:
            request = api.read_request(message.op, message.args)
            handler = self.ops.get(message.op)
            if handler is None:
                raise UnknownOp(f"the fake daemon has no {message.op!r}")
            result, events = await handler(request)
        except NotFound as exc:
            writer.write(conn.send_error(message.id, "not-found", str(exc)))
            return
        except UnknownOp as exc:
            writer.write(conn.send_error(message.id, "unknown-op", str(exc)))
            return
        except BadInput as exc:
            writer.write(conn.send_error(message.id, "bad-request", str(exc)))
            return
        writer.write(conn.send_reply(message.id, result.to_data()))
        for event in events:
            self.push(event)


# --- the ops ----------------------------------------------------------------------------------------


def _ops(d: FakeDaemon) -> dict[str, Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]]:
    s = d.state

    def changed(call: api.Call, change: str = "updated", *parts: str) -> api.Event:
        s.calls[call.id] = call
        return api.CallChangedEvent(circle=call.circle, call=call.id, change=change, parts=parts, view=call)

    async def status(_r: api.Status) -> tuple[api.Result, list[api.Event]]:
        return api.StatusResult(node_id=s.node_id, name=s.name, listen="0.0.0.0:7447", uptime_s=4000.0,
                                links=sum(1 for p in s.peers.values() if p.linked), envelopes=42, topics=0,
                                statistics={"envelopes_in": 40, "links_opened": 3}), []

    async def subscribe(_r: api.Subscribe) -> tuple[api.Result, list[api.Event]]:
        return api.SubscribeResult(), []

    async def snapshot(_r: api.Snapshot) -> tuple[api.Result, list[api.Event]]:
        return s.snapshot(d.seq), []

    async def peers(_r: api.Peers) -> tuple[api.Result, list[api.Event]]:
        return api.PeersResult(peers=tuple(s.peers.values())), []

    async def claim(r: api.CallClaim) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        if call.mine:
            raise BadInput("it is your own call")
        have = call.claimer in (None, s.node_id)
        if have:
            call = dataclasses.replace(call, status="claimed", claimer=s.node_id, claimed_at=NOW)
        return api.CallClaimResult(id=hid("claim" + call.id), call=call, have_it=have), \
            [changed(call, "updated", "claim", "status")] if have else []

    async def offer(r: api.CallOffer) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        new = api.Offer(id=hid(f"offer{len(call.offers)}{call.id}"), author=s.node_id, kind=r.kind, text=r.text,
                        created=NOW, accepted=False)
        call = dataclasses.replace(call, offers=(*call.offers, new))
        return api.CallOfferResult(id=new.id, call=call), [changed(call, "updated", "offers")]

    async def release(r: api.CallRelease) -> tuple[api.Result, list[api.Event]]:
        call = dataclasses.replace(s.find_call(r.call), status="open", claimer=None, claimed_at=None)
        return api.CallReleaseResult(id=hid("release" + call.id), call=call), [changed(call, "updated", "claim")]

    async def accept(r: api.CallAccept) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        offers = tuple(dataclasses.replace(o, accepted=o.accepted or o.id.startswith(r.offer)) for o in call.offers)
        call = dataclasses.replace(call, offers=offers, accepted=tuple(o.id for o in offers if o.accepted))
        return api.CallAcceptResult(id=hid("accept" + call.id), call=call), [changed(call, "updated", "offers")]

    async def update(r: api.CallUpdate) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        new = api.Update(id=hid(f"update{len(call.updates)}{call.id}"), author=s.node_id, text=r.text, created=NOW)
        call = dataclasses.replace(call, updates=(*call.updates, new))
        return api.CallUpdateResult(id=new.id, call=call), [changed(call, "updated", "updates")]

    async def resolve(r: api.CallResolve) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        if call.status == "resolved":
            return api.CallResolveResult(id=None, already_resolved=True, call=call), []
        if r.followup_at is not None and r.followup_at <= NOW:
            raise BadInput("the follow-up time is not in the future")
        call = dataclasses.replace(call, status="resolved", resolved_by=s.node_id, resolved_at=NOW,
                                   followup_at=r.followup_at)
        return api.CallResolveResult(id=hid("resolve" + call.id), already_resolved=False, call=call), \
            [changed(call, "resolved", "status")]

    async def create(r: api.CallCreate) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        call = dataclasses.replace(make_call(f"new{len(s.calls)}", s.node_id, r.text, urgency=r.urgency,
                                             needs=r.needs, consent=r.consent, age=0, reached=0),
                                   circle=snap.circle.id, reach=r.reach, consent_note=r.consent_note,
                                   ladder=tuple(api.LadderStep(after=st.after, to=st.to, members=st.members)
                                                for st in r.ladder))
        return api.CallCreateResult(call=call), [changed(call, "new")]

    async def checkin_reply(r: api.CheckinReply) -> tuple[api.Result, list[api.Event]]:
        c = s.find_checkin(r.checkin)
        index = int(r.option) - 1 if isinstance(r.option, int) or str(r.option).isdigit() else 0
        if not 0 <= index < len(c.options):
            raise BadInput(f"the answer must be 1 to {len(c.options)}")
        option = c.options[index]
        reply = api.Reply(id=hid(f"reply{s.node_id}{c.id}"), member=s.node_id, option=index, option_text=option,
                          text=r.text, created=NOW, late=False, suggest_call=option == vocab.SUGGEST_CALL_OPTION)
        replies = tuple(x for x in c.replies if x.member != s.node_id) + (reply,)
        tally = {o: sum(1 for x in replies if x.option_text == o) for o in c.options}
        c = dataclasses.replace(c, replies=replies, tally=tally, answered=len(replies),
                                not_answered=tuple(m for m in c.not_answered if m != s.node_id))
        s.checkins[c.id] = c
        return api.CheckinReplyResult(id=reply.id, checkin=c, option=option, suggest_call=reply.suggest_call), \
            [api.CheckinChangedEvent(circle=c.circle, checkin=c.id, change="reply", members=(s.node_id,), view=c)]

    async def checkin_create(r: api.CheckinCreate) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        c = dataclasses.replace(make_checkin(f"ci{len(s.checkins)}", r.prompt, author=s.node_id,
                                             visibility=r.visibility), circle=snap.circle.id)
        if r.options:
            c = dataclasses.replace(c, options=r.options, tally={o: 0 for o in r.options})
        s.checkins[c.id] = c
        return api.CheckinCreateResult(checkin=c), [api.CheckinChangedEvent(circle=c.circle, checkin=c.id,
                                                                            change="new", members=(), view=c)]

    async def presence(r: api.PresenceSet) -> tuple[api.Result, list[api.Event]]:
        until = r.until or NOW + vocab.DEFAULT_PRESENCE_S
        events: list[api.Event] = []
        for cid, snap in list(s.circles.items()):
            members = tuple(dataclasses.replace(m, status=r.status, until=until) if m.me else m for m in snap.members)
            s.circles[cid] = dataclasses.replace(snap, members=members)
            events.append(api.PresenceEvent(circle=cid, member=s.node_id, status=r.status, until=until, cap=r.cap,
                                            name=s.name, circle_name=snap.circle.name))
        return api.PresenceSetResult(status=r.status, until=r.until, cap=r.cap, circles=tuple(s.circles)), events

    async def circle_create(r: api.CircleCreate) -> tuple[api.Result, list[api.Event]]:
        cid = hid("circle" + r.name, 32)
        circle = api.Circle(id=cid, name=r.name, role="facilitator", status="member", members=1, relays=0,
                            facilitators=1, settings=SETTINGS, created=NOW, epoch=0)
        s.circles[cid] = api.CircleSnapshot(circle=circle, members=(member(ME, "facilitator"),), roster=(),
                                            invites=(), sync="caught_up")
        return api.CircleCreateResult(circle=circle), [
            api.JoinEvent(circle=cid, name=r.name, outcome="welcome", reason=None, view=circle)]

    async def circle_join(r: api.CircleJoin) -> tuple[api.Result, list[api.Event]]:
        if not r.token.startswith("MC1"):
            raise BadInput("that is not a meshcare invite: it starts with MC1")
        cid = hid("joined", 32)
        s.joining[cid] = api.Joining(circle=cid, circle_name="Oak Lane", invite=hid("inv"), expires=NOW + 86400,
                                     since=NOW, status="waiting", refused=None)
        return api.CircleJoinResult(circle=cid, name="Oak Lane", status="waiting", expires=NOW + 86400), []

    async def circle_invite(r: api.CircleInvite) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        invite = api.Invite(invite=hid(f"invite{len(snap.invites)}"), role=r.role, expires=NOW + 86400, by=s.node_id,
                            by_name=s.name, used_by=None, used_by_name=None, revoked=False, open=True)
        s.circles[snap.circle.id] = dataclasses.replace(snap, invites=(*snap.invites, invite))
        return api.CircleInviteResult(circle=snap.circle.id, token="MC1" + "ABCDEFGHJKMNPQRSTVWXYZ234567" * 5,
                                      invite=invite.invite, role=r.role, expires=invite.expires), []

    async def circle_invites(r: api.CircleInvites) -> tuple[api.Result, list[api.Event]]:
        return api.CircleInvitesResult(invites=s.circle(r.circle).invites), []

    async def circle_revoke(r: api.CircleRevoke) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        found = [i for i in snap.invites if i.invite.startswith(r.invite)]
        if len(found) != 1:
            raise NotFound("no single invite of the circle starts with that")
        gone = dataclasses.replace(found[0], revoked=True, open=False)
        s.circles[snap.circle.id] = dataclasses.replace(
            snap, invites=tuple(gone if i.invite == gone.invite else i for i in snap.invites))
        return api.CircleRevokeResult(invite=gone.invite, revoked=True), [
            api.InviteEvent(circle=snap.circle.id, change="revoked", invite=gone.invite, by=gone.by,
                            mine=gone.by == s.node_id, member=None, name=None, circle_name=snap.circle.name)]

    async def circle_role(r: api.CircleRole) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        if snap.circle.role != "facilitator":
            raise BadInput("only facilitators change roles")
        who = next((m for m in snap.members if m.id.startswith(r.member)), None)
        if who is None:
            raise NotFound("nobody by that name in the circle")
        now = dataclasses.replace(who, role=r.role)
        s.circles[snap.circle.id] = dataclasses.replace(
            snap, members=tuple(now if m.id == who.id else m for m in snap.members))
        return api.CircleRoleResult(circle=snap.circle.id, member=who.id, role=r.role), [
            api.MemberEvent(circle=snap.circle.id, change="role", member=who.id, name=who.name, role=r.role,
                            was=who.role, circle_name=snap.circle.name, view=now)]

    async def circle_verify(r: api.CircleVerify) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        who = next((m for m in snap.members if m.id.startswith(r.member) or m.name == r.member), None)
        if who is None:
            raise NotFound("nobody by that name in the circle")
        verified = who.verified
        events: list[api.Event] = []
        if r.confirm or r.unverify:
            verified = r.confirm
            members = tuple(dataclasses.replace(m, verified=verified) if m.id == who.id else m for m in snap.members)
            s.circles[snap.circle.id] = dataclasses.replace(snap, members=members)
            events.append(api.MemberEvent(circle=snap.circle.id, change="role", member=who.id, name=who.name,
                                          role=who.role, was=who.role, circle_name=snap.circle.name,
                                          view=dataclasses.replace(who, verified=verified)))
        return api.CircleVerifyResult(member=who.id, name=who.name, their_fingerprint=who.fingerprint,
                                      my_fingerprint="0123 4567 8901", verified=verified), events

    async def circle_leave(r: api.CircleLeave) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        left = dataclasses.replace(snap.circle, status="left", role=None)
        s.circles[snap.circle.id] = dataclasses.replace(snap, circle=left)
        return api.CircleLeaveResult(circle=snap.circle.id, left=True), [
            api.NoticeEvent(circle=snap.circle.id, circle_name=snap.circle.name, kind="removed", member=s.node_id,
                            name=s.name, previous=None)]

    async def circle_remove(r: api.CircleRemove) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        who = next((m for m in snap.members if m.id.startswith(r.member)), None)
        if who is None:
            raise NotFound("nobody by that name in the circle")
        s.circles[snap.circle.id] = dataclasses.replace(snap, members=tuple(m for m in snap.members if m.id != who.id))
        return api.CircleRemoveResult(circle=snap.circle.id, removed=who.id), [
            api.MemberEvent(circle=snap.circle.id, change="removed", member=who.id, name=who.name, role=None,
                            was=who.role, circle_name=snap.circle.name, view=None)]

    async def plan_show(_r: api.PlanShow) -> tuple[api.Result, list[api.Event]]:
        due = bool(s.plan and s.plan.review_by) and s.plan.review_by < time.strftime("%Y-%m-%d", time.localtime(NOW))
        return api.PlanShowResult(plan=s.plan, shares=s.shares, review_due=due), []

    async def plan_edit(r: api.PlanEdit) -> tuple[api.Result, list[api.Event]]:
        old = s.plan or api.PlanParts(helps="", avoid="", contact="", other="")
        changes = r.changes()
        review = changes.get(vocab.PLAN_REVIEW_FIELD, "")
        if review and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", review):
            raise BadInput("the review date must be a date written YYYY-MM-DD")
        s.plan = dataclasses.replace(old, **changes)
        return api.PlanEditResult(plan=s.plan), []

    def shared_plan(sections: tuple[str, ...] | None) -> tuple[api.PlanParts, tuple[str, ...]]:
        assert s.plan is not None
        written = tuple(k for k in vocab.PLAN_FIELDS if getattr(s.plan, k).strip())
        keys = written if sections is None else sections
        if not keys or any(k not in written for k in keys):
            raise BadInput("nothing is written in a section you chose; write it first")
        return api.PlanParts(**{k: getattr(s.plan, k) if k in keys else "" for k in vocab.PLAN_FIELDS}), keys

    async def plan_share(r: api.PlanShare) -> tuple[api.Result, list[api.Event]]:
        if s.plan is None:
            raise BadInput("there is no plan yet: save one first")
        plan, keys = shared_plan(r.sections)
        if r.call:
            call = s.find_call(r.call)
            if not call.mine or call.claimer is None:
                raise BadInput("the call is not yours, or nobody has it yet")
            reader = api.Reader(id=call.claimer, name=dict(call.names).get(call.claimer))
            share = api.OwnShare(id=hid(f"share{len(s.shares)}"), author=s.node_id, name=s.name, to="call",
                                 call=call.id, plan=plan, created=NOW, circle=call.circle, sections=keys,
                                 circle_name=call.circle_name, readers=(reader,))
            s.shares = (*s.shares, share)
            in_call = api.Share(id=share.id, author=s.node_id, name=s.name, to="call", call=call.id, plan=plan,
                                created=NOW, sections=keys)
            return api.PlanShareResult(share=share.id, circle=call.circle), [
                changed(dataclasses.replace(call, plans=(*call.plans, in_call)), "updated", "plans")]
        snap = s.circle(r.circle or "")
        share = api.OwnShare(id=hid(f"share{len(s.shares)}"), author=s.node_id, name=s.name, to="circle", call=None,
                             plan=plan, created=NOW, circle=snap.circle.id, sections=keys,
                             circle_name=snap.circle.name)
        s.shares = (*s.shares, share)
        return api.PlanShareResult(share=share.id, circle=snap.circle.id), []

    async def plan_retract(r: api.PlanRetract) -> tuple[api.Result, list[api.Event]]:
        share = next((x for x in s.shares if x.id.startswith(r.share)), None)
        if share is None:
            raise NotFound("no share starts with that")
        s.shares = tuple(x for x in s.shares if x.id != share.id)
        return api.PlanRetractResult(retracted=share.id, id=hid("retract" + share.id)), []

    async def rename(r: api.Rename) -> tuple[api.Result, list[api.Event]]:
        if r.name.strip().lower() == "ben okafor":
            raise BadInput("someone in Elm St has or had that name; pick another")
        s.name = r.name.strip()
        return api.RenameResult(name=s.name, circles=tuple(s.circles)), []

    async def followup_list(r: api.FollowupList) -> tuple[api.Result, list[api.Event]]:
        return api.FollowupListResult(followups=tuple(f for f in s.followups.values() if r.all or f.todo or
                                                      f.done_at is None)), []

    async def followup_ask(r: api.FollowupAsk) -> tuple[api.Result, list[api.Event]]:
        call = s.find_call(r.call)
        if not call.mine:
            raise BadInput("only the person who made the call decides whether someone checks in on them")
        who = call.claimer or call.resolved_by
        if who is None:
            raise BadInput("nobody took this call")
        f = make_followup(call.id, ME, who, due=r.due or NOW + 86400, again=r.again)
        s.followups[call.id] = f
        return api.FollowupAskResult(followup=f), [api.CareChangedEvent(circle=call.circle, what="followups",
                                                                        id=call.id, change="new")]

    async def followup_done(r: api.FollowupDone) -> tuple[api.Result, list[api.Event]]:
        found = [f for c, f in s.followups.items() if c.startswith(r.call)]
        if not found:
            raise NotFound("no follow-up for that call")
        f = found[0]
        if not f.mine:
            raise BadInput("only the person asked to check in marks it done")
        which = "first" if f.done_at is None else "again"
        f = dataclasses.replace(f, todo=None, **({"done_at": NOW} if which == "first" else {"again_done_at": NOW}))
        s.followups[f.call] = f
        return api.FollowupDoneResult(id=hid("done" + f.call), which=which, followup=f), \
            [api.CareChangedEvent(circle=f.circle, what="followups", id=f.call, change="updated")]

    async def safety_list(r: api.SafetyList) -> tuple[api.Result, list[api.Event]]:
        return api.SafetyListResult(timers=tuple(t for t in s.timers.values() if r.all or t.ended_at is None)), []

    async def safety_start(r: api.SafetyStart) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        t = make_timer(f"timer{len(s.timers)}", ME, every=r.every, note=r.note)
        t = dataclasses.replace(t, circle=snap.circle.id)
        s.timers[t.id] = t
        return api.SafetyStartResult(timer=t, facilitators=1), \
            [api.CareChangedEvent(circle=t.circle, what="safety", id=t.id, change="new")]

    async def safety_ping(r: api.SafetyPing) -> tuple[api.Result, list[api.Event]]:
        running = [t for t in s.timers.values() if t.mine and t.ended_at is None
                   and (r.timer is None or t.id.startswith(r.timer))]
        if not running:
            raise NotFound("you have no safety timer running")
        t = running[0]
        if r.status == "end":
            t = dataclasses.replace(t, last=NOW, ended_at=NOW, next_ok_at=None, overdue_at=None)
        else:
            t = dataclasses.replace(t, last=NOW, next_ok_at=NOW + t.every * 60, overdue_at=NOW + t.every * 60 + 300,
                                    there_at=NOW if r.status == "there" else t.there_at)
        s.timers[t.id] = t
        return api.SafetyPingResult(id=hid("ping" + r.status + t.id), timer=t), \
            [api.CareChangedEvent(circle=t.circle, what="safety", id=t.id, change="updated")]

    async def load(_r: api.Load) -> tuple[api.Result, list[api.Event]]:
        return s.load, []

    return {"followup.list": followup_list, "followup.ask": followup_ask, "followup.done": followup_done,
            "safety.list": safety_list, "safety.start": safety_start, "safety.ping": safety_ping, "me.load": load,
            "status": status, "subscribe": subscribe, "node.rename": rename, "snapshot": snapshot, "peers": peers, "call.claim": claim,
            "call.offer": offer, "call.release": release, "call.accept": accept, "call.update": update,
            "call.resolve": resolve, "call.create": create, "checkin.reply": checkin_reply,
            "checkin.create": checkin_create, "presence.set": presence, "circle.create": circle_create,
            "circle.join": circle_join, "circle.invite": circle_invite, "circle.verify": circle_verify,
            "circle.invites": circle_invites, "circle.revoke": circle_revoke, "circle.role": circle_role,
            "circle.leave": circle_leave, "circle.remove": circle_remove, "plan.show": plan_show,
            "plan.edit": plan_edit, "plan.share": plan_share, "plan.retract": plan_retract}


def _board_ops(d: FakeDaemon) -> dict[str, Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]]:
    """The mutual-aid board's ops, by the fold's rules (circles/board.py) in short."""
    s = d.state

    def find(ref: str) -> api.Need:
        found = [n for n in s.needs.values() if n.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no board item starts with {ref!r}")
        return found[0]

    def changed(need: api.Need, change: str = "updated") -> api.Event:
        s.needs[need.id] = need
        return api.CareChangedEvent(circle=need.circle, what="needs", id=need.id, change=change)

    def with_person(need: api.Need, who: str | None) -> dict[str, str]:
        return {**need.names, **({who: NAMES.get(who, s.name)} if who else {})}

    async def need_list(r: api.NeedList) -> tuple[api.Result, list[api.Event]]:
        shown = [n for n in s.needs.values() if r.all or n.status != "done"]
        return api.NeedListResult(needs=tuple(sorted(shown, key=lambda n: -n.created)),
                                  boards=tuple(s.boards.values())), []

    async def need_create(r: api.NeedCreate) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        board = s.boards.get(snap.circle.id)
        if r.anonymous and not (board and board.anonymous):
            raise BadInput(f"{snap.circle.name!r} does not allow anonymous posts")
        need = api.Need(id=hid(f"need{len(s.needs)}"), circle=snap.circle.id, circle_name=snap.circle.name,
                        kind=r.kind, category=r.category, text=r.text, when=r.when, status="open",
                        anonymous=r.anonymous, author=None if r.anonymous else ME, mine=True, taker=None,
                        done_by=None, reach=r.reach or None, created=NOW, names={} if r.anonymous else {ME: s.name})
        return api.NeedCreateResult(need=need, reach_kept=bool(r.reach), linked=1), [changed(need, "new")]

    async def need_take(r: api.NeedTake) -> tuple[api.Result, list[api.Event]]:
        need = find(r.need)
        if need.mine or need.status != "open":
            raise BadInput("it is your own, or someone took it already")
        need = dataclasses.replace(need, status="taken", taker=ME, taken_by_me=True, names=with_person(need, ME))
        return api.NeedTakeResult(id=hid("take" + need.id), need=need, linked=1), [changed(need)]

    async def need_release(r: api.NeedRelease) -> tuple[api.Result, list[api.Event]]:
        need = find(r.need)
        if need.status != "taken" or ME not in (need.taker, need.author):
            raise BadInput("nobody has it, or it is not yours to give back")
        need = dataclasses.replace(need, status="open", taker=None, taken_by_me=False,
                                   reach=None if not need.mine else need.reach)
        return api.NeedReleaseResult(id=hid("release" + need.id), need=need, linked=1), [changed(need)]

    async def need_done(r: api.NeedDone) -> tuple[api.Result, list[api.Event]]:
        need = find(r.need)
        if need.status == "done" or not (need.mine or need.taker == ME):
            raise BadInput("it is done already, or not yours to close")
        need = dataclasses.replace(need, status="done", done_by=ME, names=with_person(need, ME))
        return api.NeedDoneResult(id=hid("done" + need.id), need=need, linked=1), [changed(need)]

    async def board_set(r: api.BoardSet) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        if snap.circle.role != "facilitator":
            raise BadInput("only facilitators choose whether the board allows anonymous posts")
        board = api.Board(circle=snap.circle.id, circle_name=snap.circle.name, anonymous=r.anonymous, facilitator=True,
                          open=sum(1 for n in s.needs.values() if n.status in ("open", "taken")))
        s.boards[board.circle] = board
        return api.BoardSetResult(id=hid(f"board{r.anonymous}"), board=board, linked=1), []

    return {"need.list": need_list, "need.create": need_create, "need.take": need_take,
            "need.release": need_release, "need.done": need_done, "board.set": board_set}
