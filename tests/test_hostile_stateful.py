"""Model-based test: honest nodes against a hostile member and a hostile ex-member (issue 9).

Three honest nodes (F, a facilitator; A and B, members) each hold their own ``Circle`` of one circle, and
receive every envelope in an order hypothesis chooses, late or never until the end. Two more identities
run a modified client: H, a member, and X, a member that F removed at the start and that kept its keys,
its secret and its view of the circle as it was. Between honest posts, rotations and a removal of H, they
try what the review found:

* backdated roster operations on stale heads (X inviting, granting itself a role, changing settings,
  leaving and re-adding; any lamport, derived or not);
* posts under an old epoch key with reused and with fresh sequence numbers, and on a forked chain;
* huge lamports from a current member;
* another member's ciphertext re-signed as one's own.

Invariants, at every step: no honest node raises (an exception fails the test), nothing X signed after
its removal is accepted as content or applied in a roster, H's envelopes made after its removal likewise,
and the honest members stay members. At the end, with everything delivered to everyone in any order,
the honest nodes agree on the roster (order, members, what was ignored) and on the posts they hold.
"""

from __future__ import annotations

import os
from typing import Any

import msgpack
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from meshcare import envelope as env
from meshcare.circles.circle import Circle
from meshcare.circles.circle import LAMPORT_CAP, NEVER
from meshcare.crypto import sign
from meshcare.wire import pack

from .circlenet import Net
from .helpers import DAY, T

HONEST = ("F", "A", "B")


def _resign(author: Circle, victim: env.Envelope, seq: int, prev: bytes) -> env.Envelope:
    """``victim``'s nonce and ciphertext under ``author``'s header and signature (a copied box)."""
    header: list[object] = [env.VERSION, victim.topic, victim.epoch, author.me, seq, victim.lamport,
                            victim.created, victim.expires, int(victim.lane), prev, victim.nonce]
    signed = msgpack.packb([*header, victim.ciphertext], use_bin_type=True)
    sig = sign.sign(author.identity.signing_key, env.SIGN_DOMAIN, signed)
    return env.decode(msgpack.packb([*header, victim.ciphertext, sig], use_bin_type=True))


class HostileCircle(RuleBasedStateMachine):
    @initialize(settings_=st.sampled_from([{}, {"members_invite": True}, {"share_history": True}]))
    def setup(self, settings_: dict[str, Any]) -> None:
        self.net = Net("F", "A", "B", "H", "X", settings=settings_).setup()
        self.removed: dict[str, bytes] = {}        # name -> the operation that removed it
        self.pool: list[env.Envelope] = []        # everything made from now on, honest or not
        self.pending: dict[str, list[env.Envelope]] = {name: [] for name in HONEST}
        self.hostile_after_removal: dict[str, set[bytes]] = {"X": set(), "H": set()}
        self.made: set[bytes] = set()              # ids of everything made so far
        self.last: dict[str, tuple[int, bytes]] = {}   # a hostile author's own chain, as its client keeps it
        self.x_view = self.net.circles["X"]       # X keeps the circle as it saw it when removed
        self._remove("X")

    # -- helpers ---------------------------------------------------------------------------------

    def _publish(self, e: env.Envelope, *, to: tuple[str, ...] = ()) -> None:
        """Into every honest node's pending list (each gets it by ``converge`` at the latest); ``to``: at once."""
        self.made.add(e.id)
        self.pool.append(e)
        for name in HONEST:
            if name in to:
                self._give(name, [e])
            else:
                self.pending[name].append(e)

    def _give(self, name: str, envelopes: list[env.Envelope]) -> None:
        """Deliver as the daemon does: verdicts, held envelopes retried, then what the roster now shows
        should never have been accepted is purged (a removed author's post that arrived before its removal)."""
        self.net.give(name, envelopes)
        self.net.circles[name].purge_unacceptable()

    def _honest_roster(self, author: str, kind: str, fields: dict[str, Any], **kw: Any) -> env.Envelope:
        n = self.net
        n.seq[author] += 1
        e = n.circles[author].roster_envelope(kind, fields, seq=n.seq[author], now=T, **kw)
        self._publish(e, to=(author,))
        return e

    def _remove(self, name: str) -> None:
        n = self.net
        self._catch_up("F")
        fields = n.remove_fields("F", name)
        self.removed[name] = self._honest_roster("F", "remove", fields).id

    def _catch_up(self, name: str) -> None:
        self._give(name, self.pending[name])
        self.pending[name] = []

    def _hostile(self, e: env.Envelope, author: str) -> None:
        """A hostile envelope. Only a new one counts as made after a removal: signatures are deterministic,
        so the same content made again (before and after) is the same envelope, with the same id."""
        if author in self.removed and e.id not in self.made:
            self.hostile_after_removal[author].add(e.id)
        if e.seq > self.last.get(author, (0, b""))[0]:
            self.last[author] = (e.seq, e.id)
        self._publish(e)

    def _next(self, author: str) -> tuple[int, bytes]:
        """The next link of a hostile author's chain: after the newest it made (its client keeps count),
        or after what its circle view holds."""
        c = self.x_view if author == "X" else self.net.circles[author]
        seq, top = max(c.chains.top(c.me), self.last.get(author, (0, b"")))
        return seq + 1, top

    # -- honest behaviour ------------------------------------------------------------------------

    @rule(name=st.sampled_from(HONEST), status=st.sampled_from(["available", "away"]))
    def honest_post(self, name: str, status: str) -> None:
        c = self.net.circles[name]
        if c.roster.needs_rotation:
            self.honest_rotate(name)
        if not c.can_read():
            return
        self.net.seq[name] += 1
        self._publish(c.post_envelope("presence", {"status": status}, seq=self.net.seq[name], now=T),
                      to=(name,))

    @rule(name=st.sampled_from(HONEST))
    def honest_rotate(self, name: str) -> None:
        c = self.net.circles[name]
        roster = c.roster
        if c.me not in roster.members:
            return
        if roster.roster_stale or roster.roster_key_missing:
            generation = c.repair_generation() if roster.roster_key_missing else None
            self._honest_roster(name, "rotate", c.new_generation_fields(roster.readers, ()), generation=generation)
        else:
            self._honest_roster(name, "rotate", c.new_epoch_fields(roster.readers))

    @precondition(lambda self: "H" not in self.removed)
    @rule()
    def remove_h(self) -> None:
        self._remove("H")

    @rule(name=st.sampled_from(HONEST), data=st.data())
    def deliver_some(self, name: str, data: st.DataObject) -> None:
        """Some of what this node has not seen yet, in an order hypothesis picks; the rest stays pending."""
        # the draws do not depend on the state (ids and keys are random, so the state differs between
        # replays of one example; hypothesis needs the same draws each time)
        picks = data.draw(st.lists(st.integers(0, 2**16), min_size=1, max_size=12))
        pending = self.pending[name]
        if not pending:
            return
        order: list[int] = []
        for pick in picks:                      # distinct indices, in the drawn order
            free = [i for i in range(len(pending)) if i not in order]
            if not free:
                break
            order.append(free[pick % len(free)])
        self._give(name, [pending[i] for i in order])
        self.pending[name] = [e for i, e in enumerate(pending) if i not in order]

    # -- the hostile member and ex-member --------------------------------------------------------

    @rule(kind=st.sampled_from(["invite", "role", "settings", "remove", "admit_self"]),
          lamport=st.sampled_from(["derived", "one", "huge"]), who=st.sampled_from(["X", "H"]))
    def backdated_roster_op(self, kind: str, lamport: str, who: str) -> None:
        c = self.x_view if who == "X" else self.net.circles[who]
        seq, prev = self._next(who)
        fields: dict[str, Any]
        if kind == "invite":
            fields = {"invite": os.urandom(32), "role": "member", "expires": T + 3600}
        elif kind == "role":
            fields = {"member": c.me, "role": "facilitator"}
        elif kind == "settings":
            fields = {"settings": {"retention_days": 365, "rotate_days": 0, "share_history": True,
                                   "members_invite": True}}
        elif kind == "remove":
            fields = {"member": self.net.me("F"), **c.departure_fields(self.net.me("F")),
                      **c.new_generation_fields(c.roster.readers - {self.net.me("F")}, ())}
        else:
            fields = c.new_epoch_fields(c.roster.readers)
            kind = "rotate"
        body = {"k": kind, **fields, "parents": list(c.roster.heads)}
        value = {"derived": None, "one": 1, "huge": 2**63 - 1}[lamport]
        if value is None:
            e = c.roster_envelope(kind, fields, seq=seq, now=T, prev=prev)
        else:
            generation = c._sealing_generation()
            e = env.seal(signing_key=c.identity.signing_key, topic=c.topic, epoch=generation,
                         key=c.keys.roster[generation], seq=seq, lamport=value, created=T, expires=NEVER,
                         plaintext=pack(body), lane=env.Lane.URGENT, prev=prev)
        self._hostile(e, who)

    @rule(who=st.sampled_from(["X", "H"]), reuse=st.booleans(), fork=st.booleans(),
          lamport=st.sampled_from([None, LAMPORT_CAP, 2**63 - 1]))
    def hostile_post(self, who: str, reuse: bool, fork: bool, lamport: int | None) -> None:
        c = self.x_view if who == "X" else self.net.circles[who]
        epoch = c.roster.current
        if epoch is None or epoch not in c.keys.epochs:
            return
        seq, prev = self._next(who)
        if reuse and seq > 2:
            seq -= 1                                   # a sequence number already used
            prev = c.chains.of(c.me).get(seq - 1, (os.urandom(32),))[0]
        if fork:
            prev = os.urandom(32)                      # a chain that never existed
        plaintext = pack({"k": "presence", "status": "available"})
        key = c.keys.body_key(epoch)
        e = env.seal(signing_key=c.identity.signing_key, topic=c.topic, epoch=epoch, key=key, seq=seq,
                     lamport=lamport if lamport is not None else c.max_lamport + 1, created=T,
                     expires=T + DAY, plaintext=plaintext, prev=b"" if seq == 1 else prev)
        self._hostile(e, who)

    @rule(who=st.sampled_from(["X", "H"]), pick=st.integers(0, 2**16))
    def copied_box(self, who: str, pick: int) -> None:
        victims = [e for e in self.pool if e.author in {self.net.me(n) for n in HONEST}]
        if not victims:
            return
        victim = victims[pick % len(victims)]
        seq, prev = self._next(who)
        self._hostile(_resign(self.x_view if who == "X" else self.net.circles[who], victim, seq, prev), who)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def nothing_a_removed_author_made_afterwards_counts(self) -> None:
        """Once a node knows of a removal, nothing the removed author made after it counts there (before,
        it cannot know: what it accepted then is purged when the removal arrives)."""
        for name in HONEST:
            c = self.net.circles[name]
            applied = set(c.roster.order) - set(c.roster.ignored)
            for author, removal in self.removed.items():
                if removal in applied:
                    made = self.hostile_after_removal[author]
                    assert not made & set(c.content_ids()), (name, author)
                    assert not made & applied, (name, author)

    @invariant()
    def honest_members_stay(self) -> None:
        for name in HONEST:
            c = self.net.circles[name]
            for other in HONEST:
                assert self.net.me(other) in c.roster.members, (name, other)

    @rule()
    def converge(self) -> None:
        for name in HONEST:
            self._catch_up(name)
        views = [self.net.circles[name] for name in HONEST]
        first = views[0].roster
        for c in views[1:]:
            assert c.roster.order == first.order
            assert set(c.roster.members) == set(first.members)
            assert set(c.roster.ignored) == set(first.ignored)
        contents = [set(c.content_ids()) for c in views]
        assert all(s == contents[0] for s in contents), [len(s) for s in contents]


TestHostileCircle = HostileCircle.TestCase
TestHostileCircle.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
