"""Model-based test: 3-8 in-memory nodes over a network that breaks links, partitions and heals.

A link is a reliable ordered stream (TCP under Noise), so "drop" means the link breaks with bytes in
flight lost; duplicates and reordering come from several paths delivering the same envelopes in
different orders. Invariants: everything stored passed the verifier; nothing rejected is forwarded;
after healing and running to quiescence every member holds the same set.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from meshcare.sync import events as ev
from meshcare.sync.engine import SyncConfig

from .meshnet import Net

CONFIG = SyncConfig(anti_entropy_interval=20.0, ping_interval=5.0, dead_after=15.0)


class MeshMachine(RuleBasedStateMachine):
    @initialize(n=st.integers(3, 8), seed=st.integers(0, 2**16), outsider=st.booleans())
    def setup(self, n, seed, outsider):
        members = set(range(n - 1)) if outsider else set(range(n))
        self.net = Net(n, seed=seed, config=CONFIG, members=members)
        self.n = n
        self.members = members
        self.rejected: dict[bytes, int] = {}  # id -> the node that injected it
        self.net.start()
        self.net.run(2)

    @rule(data=st.data())
    def publish(self, data):
        i = data.draw(st.integers(0, self.n - 1))
        e = self.net.publish(i, data.draw(st.binary(max_size=40)))
        if i not in self.members:
            self.rejected[e.id] = i

    @rule(data=st.data())
    def forge(self, data):
        """A member's node relays an envelope signed by a key that is not a member's."""
        i = data.draw(st.sampled_from(sorted(self.members)))
        outsider_key = self.n - 1 if len(self.members) < self.n else None
        if outsider_key is None:
            return
        e = self.net.publish(i, b"forged", signer=outsider_key)
        self.rejected[e.id] = i

    @rule(data=st.data())
    def cut_link(self, data):
        if self.net.links:
            pair = data.draw(st.sampled_from(sorted(tuple(sorted(p)) for p in self.net.links)))
            self.net.cut(*pair)

    @rule(data=st.data())
    def partition(self, data):
        side = set(data.draw(st.lists(st.integers(0, self.n - 1), min_size=1, max_size=self.n - 1, unique=True)))
        self.net.blocked |= {frozenset((a, b)) for a in side for b in range(self.n) if b not in side}
        for pair in list(self.net.links):
            a, b = tuple(pair)
            if (a in side) != (b in side):
                self.net.cut(a, b)

    @rule()
    def heal(self):
        self.net.blocked.clear()
        for i in range(self.n):
            for j in range(self.n):
                if i != j:
                    self.net.handle(i, ev.PeerDiscovered(j))

    @rule(seconds=st.floats(0.001, 3.0))
    def run(self, seconds):
        self.net.run(seconds)

    @invariant()
    def stored_only_what_verified(self):
        for i in range(self.n):
            own = {d for d in self.net.delivered[i]}
            for envelope_id in self.net.ids(i):
                assert envelope_id in self.net.accepted_by_verifier[i] or envelope_id in own

    @invariant()
    def rejected_never_spread(self):
        for i in range(self.n):
            for envelope_id in self.net.ids(i):
                assert self.rejected.get(envelope_id, i) == i, "a rejected envelope reached another node"

    @rule()
    def converge_after_heal(self):
        self.heal()
        self.net.run(90)
        valid = [self.net.ids(i) - set(self.rejected) for i in sorted(self.members)]
        assert all(s == valid[0] for s in valid), [len(s) for s in valid]


TestMesh = MeshMachine.TestCase
TestMesh.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
