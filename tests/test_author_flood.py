"""A member's runaway node: envelopes of an author already over budget are dropped before the signature
check (``AuthorBudgets.exhausted``), so a flood costs its neighbours a decode per envelope, not a verify.

The outcome must be exactly what verifying first gave (same envelopes kept, same ones dropped); only the
work differs. ``tests/netns/test_flood.py`` is the same thing between real daemons.
"""

from __future__ import annotations

import nacl.signing

from meshcare.sync import events as ev
from meshcare.sync.budget import AuthorBudgets, Limits
from meshcare.sync.engine import SyncConfig

from .helpers import NOW, make_envelope
from .test_node_hostile import TOPIC, Link


def test_exhausted_spends_nothing_and_adds_no_author() -> None:
    budgets = AuthorBudgets(Limits(author_per_min=60, author_burst=2))
    author = b"A" * 32
    assert not budgets.exhausted(author, NOW)
    assert author not in budgets.buckets                      # a peek does not enter the table
    assert budgets.allow(author, NOW) and budgets.allow(author, NOW)
    assert budgets.exhausted(author, NOW) and budgets.exhausted(author, NOW)
    assert not budgets.exhausted(author, NOW, fresh=False)     # the catch-up allowance is separate
    assert not budgets.exhausted(author, NOW + 1.0)           # 60/min: one token back after a second
    assert budgets.allow(author, NOW + 1.0)                   # ... and the peek did not spend it
    assert not budgets.allow(author, NOW + 1.0)


def _verify_counting(link: Link) -> list[int]:
    calls: list[int] = []

    def verify(envs: list[object], now: int) -> list[bool]:
        calls.append(len(envs))
        return [True] * len(envs)

    link.node._verify = verify
    return calls


def test_a_flooding_authors_envelopes_over_budget_are_not_verified() -> None:
    link = Link(SyncConfig(limits=Limits(author_per_min=60, author_burst=5)))
    calls = _verify_counting(link)
    key = nacl.signing.SigningKey(b"F" * 32)
    flood = [make_envelope(key, topic=TOPIC, seq=s) for s in range(1, 101)]
    for start in range(0, 100, 10):
        link.push(flood[start:start + 10])
    persisted = [e for eff in link.effects if isinstance(eff, ev.Persist) for e in eff.envelopes]
    assert [e.seq for e in persisted] == [1, 2, 3, 4, 5]      # the burst, as before
    assert sum(calls) == 10                                   # the first frame only; before: all 100
    stats = link.node.statistics()
    assert stats["dropped_author_budget"] == 95 and stats["dropped_before_verify"] == 90
    assert not link.dropped()                                 # rate-limited, not cut off
    link.now += 2.0                                           # two tokens back
    link.push([make_envelope(key, topic=TOPIC, seq=s) for s in range(101, 104)])
    persisted = [e for eff in link.effects if isinstance(eff, ev.Persist) for e in eff.envelopes]
    assert [e.seq for e in persisted][5:] == [101, 102]


def test_other_authors_are_untouched_by_one_authors_flood() -> None:
    link = Link(SyncConfig(limits=Limits(author_per_min=60, author_burst=5)))
    flooder, calm = nacl.signing.SigningKey(b"F" * 32), nacl.signing.SigningKey(b"C" * 32)
    link.push([make_envelope(flooder, topic=TOPIC, seq=s) for s in range(1, 51)])
    mixed = [make_envelope(flooder, topic=TOPIC, seq=s) for s in range(51, 61)]
    mixed += [make_envelope(calm, topic=TOPIC, seq=s) for s in range(1, 4)]
    link.push(mixed)
    persisted = [e for eff in link.effects if isinstance(eff, ev.Persist) for e in eff.envelopes]
    assert sum(e.author == calm.verify_key.encode() for e in persisted) == 3
