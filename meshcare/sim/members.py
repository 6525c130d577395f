"""Real nodes for the simulator: one ``meshcare.node.Node`` per simulated person, all from the seed.

Theory of operation
-------------------
Each simulated node is the real core: a ``Node`` with its own ``Identity``, a ``MemoryStore`` (kept
across restarts, as a disk would be) and a ``LocalState``. Everything random comes from the simulation's
RNG: the identity seeds, each node's engine RNG (a new one per start) and each node's source of key and
nonce bytes (``random_bytes``, one stream per node that goes on across its restarts). So the same seed
makes the same circle secret, the same invites and the same envelopes, byte for byte.

A node that starts again gets a copy of the state its last ``SaveState`` wrote (``World.saved``), not
the live object of its previous run: what a real node reads back from its state file.

The signature check (``Node``'s injected ``check_signatures``) is memoised by envelope id across all
nodes: the answer is a function of the envelope's bytes, and its id is their hash, so checking the same
signature on 200 nodes would measure libsodium 200 times, not the protocol. Everything else a node
decides about an envelope (expiry, size, membership, epoch) it still decides itself. ``memo=False``
checks every signature on every node. ``checked`` counts envelopes the nodes asked about, ``verified``
the signature checks actually run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .. import envelope as env
from ..circles.state import LocalState
from ..crypto.keys import Identity
from ..node import Node
from ..store.memory import MemoryStore
from ..sync.config import SyncConfig


class Members:
    """Identities and the factory of ``Node``s for one simulation (see the module docstring)."""

    __slots__ = ("identities", "node_ids", "stores", "config", "checked", "verified", "_memo", "_known",
                 "_engine_rng", "_random")

    def __init__(self, stores: Sequence[MemoryStore], rng: random.Random, config: SyncConfig,
                 memo: bool = True) -> None:
        self.stores = stores
        self.config = config
        self.identities = [Identity.from_seed(rng.randbytes(32), f"member {i}") for i in range(len(stores))]
        self.node_ids = [bytes(identity.node_id) for identity in self.identities]
        self._engine_rng = random.Random(rng.getrandbits(64))
        self._random = [random.Random(rng.getrandbits(64)) for _ in stores]
        self._memo = memo
        self._known: dict[bytes, bool] = {}
        self.checked = 0
        self.verified = 0

    def make(self, node: int, saved: LocalState | None) -> Node:
        """A new process for ``node``: its identity, its store, the state it last saved (none at first)."""
        state = LocalState() if saved is None else LocalState.from_obj(saved.to_obj())
        return Node(self.identities[node], self.stores[node], state,
                    rng=random.Random(self._engine_rng.getrandbits(64)), config=self.config,
                    check_signatures=self.check_signatures, random_bytes=self._random[node].randbytes)

    def check_signatures(self, envelopes: Sequence[env.Envelope]) -> list[bool]:
        """``envelope.signatures_valid``, memoised by envelope id across nodes (unless ``memo`` is off)."""
        self.checked += len(envelopes)
        if not self._memo:
            self.verified += len(envelopes)
            return env.signatures_valid(envelopes)
        known = self._known
        out = []
        for e in envelopes:
            ok = known.get(e.id)
            if ok is None:
                ok = known[e.id] = env.signatures_valid([e])[0]
                self.verified += 1
            out.append(ok)
        return out
