"""An in-memory circle network for the fold and verdict tests: each named identity has its own ``Circle``.

``Net`` plays the network and the registry: an envelope is signature-checked, then ``verdict`` decides;
DEFER holds it aside and it is asked again after every envelope that was taken in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from meshcare import envelope as env
from meshcare.circles.circle import Circle, Verdict, circle_topic, invite_proof
from meshcare.crypto import sign
from meshcare.crypto.keys import Identity

from .helpers import T

#: A support plan body as a member writes one (plan_share tests).
PLAN = {"helps": "a walk", "avoid": "", "contact": "my sister", "other": ""}


class Net:
    """Identities, each with its own Circle of one circle. ``to`` names who receives an envelope now
    (default: everyone); ``give`` hands over envelopes later, in any order."""

    def __init__(self, *names: str, settings: dict[str, Any] | None = None) -> None:
        self.names = names
        self.ids = {n: Identity.generate(n) for n in names}
        self.secret = os.urandom(32)
        self.founder = bytes(self.ids[names[0]].node_id)
        self.circles = {n: self.fresh(n) for n in names}
        self.held: dict[Circle, list[env.Envelope]] = {}
        self.rejected: dict[str, list[env.Envelope]] = {n: [] for n in names}
        self.seq = dict.fromkeys(names, 0)
        self.log: list[env.Envelope] = []
        self.settings = settings or {}

    def fresh(self, name: str) -> Circle:
        return Circle(self.ids[name], self.secret, self.founder)

    def me(self, name: str) -> bytes:
        return bytes(self.ids[name].node_id)

    @property
    def topic(self) -> bytes:
        return circle_topic(self.secret, self.founder)

    # -- delivery --------------------------------------------------------------------------------

    def give(self, name: str, envelopes: Iterable[env.Envelope], circle: Circle | None = None) -> list[Verdict]:
        c = circle or self.circles[name]
        held = self.held.setdefault(c, [])
        out = []
        for e in envelopes:
            env.verify(e)
            v = c.verdict(e, T)
            out.append(v)
            if v is Verdict.DEFER:
                held.append(e)
            elif v in (Verdict.REJECT, Verdict.DROP):
                self.rejected[name].append(e)
            else:
                c.ingest(e)
                self._retry(name, c, held)
        return out

    def _retry(self, name: str, c: Circle, held: list[env.Envelope]) -> None:
        progress = True
        while progress:
            progress = False
            for h in list(held):
                v = c.verdict(h, T)
                if v is not Verdict.DEFER:
                    held.remove(h)
                    progress = True
                    if v is Verdict.ACCEPT:
                        c.ingest(h)
                    else:
                        self.rejected[name].append(h)

    def _spread(self, author: str, e: env.Envelope, to: Sequence[str] | None) -> env.Envelope:
        self.log.append(e)
        for name in (self.names if to is None else dict.fromkeys([author, *to])):
            assert self.give(name, [e]) != [Verdict.REJECT], f"{name} rejected an envelope by {author}"
        return e

    # -- making envelopes ------------------------------------------------------------------------

    def roster(self, author: str, kind: str, fields: dict[str, Any], *, to: Sequence[str] | None = None,
               now: int = T, generation: int | None = None) -> env.Envelope:
        self.seq[author] += 1
        e = self.circles[author].roster_envelope(kind, fields, seq=self.seq[author], now=now,
                                                 generation=generation)
        return self._spread(author, e, to)

    def post(self, author: str, kind: str, body: dict[str, Any], *, audience: Iterable[bytes] = (),
             to: Sequence[str] | None = None, now: int = T) -> env.Envelope:
        self.seq[author] += 1
        e = self.circles[author].post_envelope(kind, body, seq=self.seq[author], now=now, audience=audience)
        return self._spread(author, e, to)

    def call(self, author: str, ladder: list[dict[str, Any]] | None = None, *, text: str = "could someone call me",
             to: Sequence[str] | None = None, now: int = T) -> env.Envelope:
        body: dict[str, Any] = {"text": text}
        if ladder is not None:
            body["ladder"] = ladder
        steps = ladder or [{"after": 0, "to": "circle", "members": []}]
        audience = self.circles[author].call_audience(self.me(author), steps, 0)
        return self.post(author, "call", body, audience=audience, to=to, now=now)

    def rotate(self, author: str, *, to: Sequence[str] | None = None) -> env.Envelope:
        c = self.circles[author]
        if c.roster.roster_stale or c.roster.roster_key_missing:
            generation = c.repair_generation() if c.roster.roster_key_missing else None
            return self.roster(author, "rotate", c.new_generation_fields(c.roster.readers, ()), to=to,
                               generation=generation)
        return self.roster(author, "rotate", c.new_epoch_fields(c.roster.readers), to=to)

    def remove_fields(self, by: str, name: str) -> dict[str, Any]:
        c, member = self.circles[by], self.me(name)
        relays = {m for m, v in c.roster.members.items() if v.role == "relay"} - {member}
        return {"member": member, **c.departure_fields(member),
                **c.new_generation_fields(c.roster.readers - {member}, relays)}

    def leave_fields(self, name: str) -> dict[str, Any]:
        return {"last_seq": self.seq[name], "last_id": self.circles[name].chains.top(self.me(name))[1]}

    def create(self) -> Net:
        f = self.names[0]
        self.roster(f, "create", {"name": "circle", "member_name": f, "settings": self.settings,
                                  **self.circles[f].new_epoch_fields([])})
        return self

    def join(self, name: str, *, by: str | None = None, role: str = "member") -> None:
        by = by or self.names[0]
        c = self.circles[by]
        seed = os.urandom(32)
        key = sign.public_key(seed)
        self.roster(by, "invite", {"invite": key, "role": role, "expires": T + 3600})
        readers = c.roster.readers | ({self.me(name)} if role != "relay" else set())
        fields = {"invite": key, "member": self.me(name), "name": name,
                  "proof": invite_proof(seed, c.topic, self.me(name)), **c.new_epoch_fields(readers)}
        if c.roster.settings.share_history and role != "relay":
            fields["history"] = c.history_for(self.me(name))
        self.roster(by, "admit", fields)

    def setup(self) -> Net:
        self.create()
        for name in self.names[1:]:
            self.join(name)
        for circle in self.circles.values():
            circle.roster        # rosters fold when read; some tests look at the key tables behind them
        return self


def ids(c: Circle) -> set[bytes]:
    return {p.id for p in c.posts}
