"""Range-based set reconciliation and the heads fast path (meshcare.sync.reconcile, meshcare.sync.heads)."""

from __future__ import annotations

import functools
import math
import random

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.sync import heads as hd
from meshcare.sync import reconcile as rc
from meshcare.sim.reconcile_driver import ExchangeStats, run_exchange
from meshcare.errors import LocalProtocolError, RemoteProtocolError, UnsupportedVersion
from meshcare.ranges import KEY_MAX, KEY_MIN, RangeKey
from meshcare.store.memory import MemoryStore
from meshcare.store.sqlite import SqliteStore

from .helpers import DAY, NOW, by_profile, examples

TOPIC = b"reconcile-topic!"
KEY = b"K" * 32
AUTHORS = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(6)]


def build(count: int, *, seed: int, spacing: float, ttl: int = 30 * DAY,
          start: int = NOW - 20 * DAY) -> list[env.Envelope]:
    """``count`` sealed envelopes in creation order, ``spacing`` seconds apart on average (below 1, many
    share a second, so bounds need id prefixes). Each author's seq rises with ``created``."""
    rng = random.Random(seed)
    seqs = [0] * len(AUTHORS)
    out = []
    for i in range(count):
        a = rng.randrange(len(AUTHORS))
        seqs[a] += 1
        created = start + int(i * spacing)
        out.append(env.seal(signing_key=AUTHORS[a], topic=TOPIC, epoch=0, key=KEY, seq=seqs[a], lamport=i,
                            created=created, expires=created + ttl, plaintext=rng.randbytes(40),
                            nonce=rng.randbytes(24), prev=env.filler_prev(seqs[a])))
    return out


@functools.cache
def pool() -> tuple[env.Envelope, ...]:
    """600 envelopes: the first half one per 7 s, the second half seven per second."""
    return tuple(build(300, seed=1, spacing=7) + build(300, seed=2, spacing=1 / 7, start=NOW - DAY))


#: The largest set the tests use. Sealing 20,000 envelopes alone takes over a second, so the dev profile
#: runs the two scaling tests at 5,000 (their docstrings give both sizes' measurements), CI at the full size.
LARGE = by_profile(dev=5_000, ci=20_000)


@functools.cache
def _sealed() -> tuple[env.Envelope, ...]:
    return tuple(build(LARGE, seed=LARGE, spacing=13))


def large(count: int) -> tuple[env.Envelope, ...]:
    """The first ``count`` of one set sealed once (one envelope per 13 s): sealing is what costs."""
    assert count <= LARGE, f"large() holds {LARGE} envelopes in this profile"
    return _sealed()[:count]


def store_of(envelopes, now: int = NOW) -> MemoryStore:
    store = MemoryStore()
    store.add(list(envelopes), now)
    return store


def ids_of(store: MemoryStore, now: int = NOW) -> set[bytes]:
    return {k.id for k in store.keys(TOPIC, KEY_MIN, KEY_MAX, now)}


def exchange(a, b, **kwargs) -> tuple[MemoryStore, MemoryStore, ExchangeStats]:
    """Reconcile stores holding ``a`` and ``b``, ``b``'s side initiating (the returning node)."""
    store_a, store_b = store_of(a), store_of(b)
    stats = run_exchange(store_b, store_a, TOPIC, NOW, **kwargs)
    return store_a, store_b, stats


# --- convergence ------------------------------------------------------------------------------------

PARAMS = [(16, 4), (4, 4), (16, 32), (2, 1)]


@st.composite
def two_sets(draw: st.DrawFn, max_size: int = 300) -> tuple[set[int], set[int]]:
    """Two index sets into ``pool()`` of sizes 0..max_size with any overlap. The exclusive items are
    either scattered or in runs of up to 60 consecutive envelopes (what an offline node misses)."""
    size_a, size_b = draw(st.integers(0, max_size)), draw(st.integers(0, max_size))
    common = draw(st.integers(0, min(size_a, size_b)))
    run = draw(st.sampled_from([1, 5, 60]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    blocks = [list(range(i, min(i + run, 600))) for i in range(0, 600, run)]
    rng.shuffle(blocks)
    order = [i for block in blocks for i in block]
    shared = order[:common]
    only_a = order[common:size_a]
    only_b = order[size_a:size_a + size_b - common]
    return set(shared + only_a), set(shared + only_b)


@settings(max_examples=examples(80))
@given(two_sets(), st.sampled_from(PARAMS), st.booleans())
def test_any_two_sets_end_with_the_union_in_few_rounds(sets, params, heads):
    left, right = sets
    branching, threshold = params
    envs = pool()
    a, b = [envs[i] for i in left], [envs[i] for i in right]
    store_a, store_b, stats = exchange(a, b, heads=heads, branching=branching, id_list_threshold=threshold)
    union = {envs[i].id for i in left | right}
    assert ids_of(store_a) == union and ids_of(store_b) == union
    n = len(union)
    assert stats.rounds <= (math.ceil(math.log(n, branching)) if n > 1 else 0) + 3
    assert stats.useless_pushes == 0


def test_identical_sets_take_one_small_message():
    envs = large(1000)
    _, _, stats = exchange(envs, envs)
    assert stats.rounds == 1 and stats.reconcile_messages == 1
    assert stats.reconcile_bytes < 200 and stats.envelope_bytes == 0


def test_a_returning_node_gets_its_missing_tail_in_one_round_trip():
    envs = large(2000)
    for heads in (False, True):
        store_a, store_b, stats = exchange(envs, envs[:-50], heads=heads)
        assert ids_of(store_b) == ids_of(store_a) == {e.id for e in envs}
        assert stats.rounds == 1
        assert stats.envelope_bytes == sum(e.size for e in envs[-50:])  # each pushed once
        assert stats.reconcile_bytes < 200 and stats.request_bytes == 0


def test_sqlite_and_memory_stores_produce_the_same_messages(tmp_path):
    """Messages depend only on the set held, not on the store implementation, so mixed nodes agree."""
    envs = pool()
    with SqliteStore(tmp_path / "a.db", synchronous="NORMAL") as durable:
        durable.add(list(envs[:450]), NOW)
        memory, peer = store_of(envs[:450]), store_of(envs[100::3])
        opening = rc.Reconciler(durable, TOPIC).initiate(NOW)
        assert opening == rc.Reconciler(memory, TOPIC).initiate(NOW)
        reply = rc.Reconciler(peer, TOPIC).receive(opening, NOW).reply
        assert reply is not None
        assert rc.Reconciler(durable, TOPIC).receive(reply, NOW) == rc.Reconciler(memory, TOPIC).receive(reply, NOW)
        assert hd.heads_message(durable, TOPIC, NOW) == hd.heads_message(memory, TOPIC, NOW)
        run_exchange(peer, durable, TOPIC, NOW, heads=True)
        assert ids_of(peer) == {k.id for k in durable.keys(TOPIC, KEY_MIN, KEY_MAX, NOW)} == \
            {e.id for e in envs[:450]} | {e.id for e in envs[100::3]}


def test_one_side_empty():
    envs = pool()
    for a, b in ((envs, ()), ((), envs)):
        store_a, store_b, stats = exchange(a, b)
        assert ids_of(store_a) == ids_of(store_b) == {e.id for e in envs}
        assert stats.rounds <= 2 and stats.control_bytes < 200


def test_bytes_grow_with_the_difference_not_the_set():
    """Measured with 10 scattered envelopes missing on one side: 2.5-3.2 KB of control traffic at
    n = 1,000 and 6.2-7.3 KB at n = 20,000 (x2.0-2.9 over 8 seeds for 20x the set: O(d log n), one
    more level of fingerprints per difference), in 3 and 4 round trips. The dev profile compares 250
    with 5,000, the same 20x: 2.0-2.6 KB and 5.0-5.5 KB (x1.9-2.7)."""
    small = LARGE // 20
    control = {}
    for n in (small, LARGE):
        envs = large(n)
        rng = random.Random(n)
        missing = set(rng.sample(range(n), 10))
        _, _, stats = exchange(envs, [e for i, e in enumerate(envs) if i not in missing])
        assert stats.envelope_bytes == sum(envs[i].size for i in missing)
        control[n] = stats.control_bytes
    assert control[LARGE] < 4 * control[small]
    if LARGE >= 20_000:    # the gap to listing the ids widens with n: the full size is where it shows
        assert control[LARGE] < LARGE * 32 / 50  # and far below listing the ids


def test_bytes_scale_with_the_number_of_differences():
    """10 against 100 differences: x5.2-6.8 the control bytes at n = 20,000, x4.2-5.5 at the dev
    profile's 5,000 (8 seeds each)."""
    envs = large(LARGE)
    rng = random.Random(7)
    control = {}
    for d in (10, 100):
        missing = set(rng.sample(range(len(envs)), d))
        _, _, stats = exchange(envs, [e for i, e in enumerate(envs) if i not in missing])
        control[d] = stats.control_bytes
    assert 3 * control[10] < control[100] < 15 * control[10]


# --- expiry -----------------------------------------------------------------------------------------

def test_expired_envelopes_are_neither_counted_nor_transferred():
    live = build(400, seed=5, spacing=60)
    dying = build(100, seed=6, spacing=60, ttl=DAY, start=NOW - 10 * DAY)  # all expired by NOW
    assert all(e.is_expired(NOW) for e in dying)
    holder = MemoryStore()
    holder.add(dying, NOW - 20 * DAY)  # stored while still live, not yet deleted
    holder.add(live, NOW)
    cleaned = store_of(live[:-5])
    for initiator, responder in ((holder, cleaned), (cleaned, holder)):
        stats = run_exchange(initiator, responder, TOPIC, NOW, heads=True)
        assert ids_of(cleaned) == ids_of(holder) == {e.id for e in live}
        assert not any(cleaned.has(e.id) for e in dying)
    assert len(holder) == 500  # the expired ones are still stored, just invisible
    assert stats.envelopes_pushed == 0 and stats.rounds == 1


def test_an_id_list_naming_an_envelope_we_hold_expired_is_not_requested():
    live = build(3, seed=8, spacing=60)
    dying = build(1, seed=9, spacing=60, ttl=DAY, start=NOW - 10 * DAY)
    here = MemoryStore()
    here.add(dying, NOW - 20 * DAY)
    here.add(live, NOW)
    listed = rc._id_list_payload([e.id for e in live + dying])
    message = bytes([rc.VERSION, 0, rc.Mode.ID_LIST]) + listed
    step = rc.Reconciler(here, TOPIC).receive(message, NOW)
    assert step.need_ids == [] and step.send_ids == [] and step.reply is None


# --- statelessness and message limits ---------------------------------------------------------------

def test_receive_is_a_function_of_the_store_and_the_message():
    a, b = store_of(pool()[:400]), store_of(pool()[150:])
    opening = rc.Reconciler(b, TOPIC).initiate(NOW)
    first = rc.Reconciler(a, TOPIC).receive(opening, NOW)
    again = rc.Reconciler(a, TOPIC).receive(opening, NOW)
    assert first == again and first.reply is not None


def test_a_lost_reply_costs_a_restart_not_correctness():
    a, b = store_of(pool()[:400]), store_of(pool()[150:])
    reply = rc.Reconciler(a, TOPIC).receive(rc.Reconciler(b, TOPIC).initiate(NOW), NOW).reply
    assert reply is not None
    stale = rc.Reconciler(b, TOPIC).receive(reply, NOW)  # a late duplicate is still answered sanely
    assert stale.reply is not None
    run_exchange(b, a, TOPIC, NOW)  # the lost round is simply started again
    assert ids_of(a) == ids_of(b) == {e.id for e in pool()}


@settings(max_examples=examples(20))
@given(two_sets())
def test_small_max_message_defers_but_converges(sets):
    left, right = sets
    envs = pool()
    limit = rc.minimum_max_message(4, 4)
    store_a, store_b, stats = exchange([envs[i] for i in left], [envs[i] for i in right], branching=4,
                                       id_list_threshold=4, max_message=limit, max_rounds=400)
    assert ids_of(store_a) == ids_of(store_b) == {envs[i].id for i in left | right}
    assert max(stats.message_sizes, default=0) <= limit


def test_parameters_are_checked():
    store = MemoryStore()
    with pytest.raises(LocalProtocolError):
        rc.Reconciler(store, TOPIC, max_message=rc.minimum_max_message(16, 4) - 1)
    with pytest.raises(LocalProtocolError):
        rc.Reconciler(store, TOPIC, branching=1)
    with pytest.raises(LocalProtocolError):
        rc.Reconciler(store, TOPIC, id_list_threshold=0)


def test_bounds_carry_only_the_id_prefix_they_need():
    """Negentropy's minimal bounds: distinct created values need no id bytes; 7 per second need ~1."""
    envs = pool()
    ours, theirs = store_of(envs), store_of(envs[::2])
    message = rc.Reconciler(theirs, TOPIC).receive(rc.Reconciler(ours, TOPIC).initiate(NOW), NOW).reply
    assert message is not None
    bounds = [r.upper for r in rc.parse_message(message)]
    sparse = [b for b in bounds if b.created < NOW - DAY]
    assert sparse and all(b.id == b"" for b in sparse)
    assert all(len(b.id) <= 2 for b in bounds)


# --- malformed messages -----------------------------------------------------------------------------

def _receiver() -> rc.Reconciler:
    return rc.Reconciler(store_of(pool()[:200]), TOPIC)


@functools.cache
def _real_message() -> bytes:
    reply = rc.Reconciler(store_of(pool()[100:300]), TOPIC).receive(
        rc.Reconciler(store_of(pool()[:200]), TOPIC).initiate(NOW), NOW).reply
    assert reply is not None and len(rc.parse_message(reply)) > 3
    return reply


V = bytes([rc.VERSION])
FP = bytes([rc.Mode.FINGERPRINT])
ID = b"\x11" * 32
BAD = {
    "empty": b"",
    "no ranges": V,
    "does not reach the end": V + b"\x05\x00\x00",
    "trailing bytes": V + b"\x00\x00\x00",
    "unknown mode": V + b"\x00\x07",
    "bounds equal": V + b"\x05\x00\x00\x01\x00\x00\x00\x00",
    "bound below KEY_MIN's successor": V + b"\x01\x00\x00\x00\x00",
    "decreasing prefix": V + b"\x05\x01\x09\x00\x01\x01\x05\x00\x00\x00",
    "prefix too long": V + b"\x05\x21" + b"\x00" * 33 + b"\x00\x00\x00",
    "created beyond 2**63-1": V + rc.varint(2**63 + 1) + b"\x00\x00\x00\x00",
    "non-minimal varint": V + b"\x80\x05\x00\x00\x00\x00",
    "varint too long": V + b"\xff" * 11 + b"\x00",
    "zero count": V + b"\x00" + FP + b"\x00" + b"\x00" * 16,
    "absurd count": V + b"\x00" + FP + rc.varint(2**63) + b"\x00" * 16,
    "truncated fingerprint": V + b"\x00" + FP + b"\x05" + b"\x00" * 15,
    "absurd id count": V + b"\x00\x02" + rc.varint(2**40) + ID,
    "empty id list": V + b"\x00\x02\x00",
    "duplicate ids": V + b"\x00\x02\x02" + ID + ID,
    "unsorted ids": V + b"\x00\x02\x02" + b"\x22" * 32 + ID,
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_messages_are_remote_errors(name):
    with pytest.raises(RemoteProtocolError):
        _receiver().receive(BAD[name], NOW)


def test_other_versions_and_oversized_messages_are_refused():
    with pytest.raises(UnsupportedVersion):
        _receiver().receive(b"\x02\x00\x00", NOW)
    receiver = _receiver()
    with pytest.raises(RemoteProtocolError, match="limit"):
        receiver.receive(V + b"\x00\x00" + b"\x00" * rc.DEFAULT_MAX_MESSAGE, NOW)


def test_every_truncation_of_a_real_message_is_refused():
    message = _real_message()
    receiver = _receiver()
    for end in range(len(message)):
        with pytest.raises(RemoteProtocolError):
            receiver.receive(message[:end], NOW)


@settings(max_examples=examples(300))
@given(st.one_of(st.binary(max_size=200), st.binary(max_size=40).map(lambda b: V + b)))
def test_arbitrary_bytes_either_parse_or_raise_remote_errors(data):
    try:
        step = _receiver().receive(data, NOW)
    except RemoteProtocolError:
        return
    assert step.reply is None or rc.parse_message(step.reply)


@settings(max_examples=examples(100))
@given(st.data())
def test_mutated_real_messages_either_parse_or_raise_remote_errors(data):
    message = bytearray(_real_message())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(message) - 1))
        message[position] = data.draw(st.integers(0, 255))
    try:
        _receiver().receive(bytes(message), NOW)
    except RemoteProtocolError:
        pass


# --- heads fast path --------------------------------------------------------------------------------

@settings(max_examples=examples(40))
@given(two_sets())
def test_answer_heads_returns_exactly_what_is_above_the_peer_heads(sets):
    mine, theirs = sets
    envs = pool()
    ours, peer = store_of(envs[i] for i in mine), store_of(envs[i] for i in theirs)
    heads = peer.author_heads(TOPIC, NOW)
    expected = sorted((RangeKey(e.created, e.id) for e in (envs[i] for i in mine)
                       if e.seq > heads.get(e.author, -1)))
    got = hd.answer_heads(ours, TOPIC, hd.heads_message(peer, TOPIC, NOW), NOW)
    assert got == [k.id for k in expected]


def test_heads_message_is_compact_and_round_trips():
    store = store_of(pool())
    message = hd.heads_message(store, TOPIC, NOW)
    assert len(message) <= 3 + len(AUTHORS) * (32 + 2)
    assert hd.parse_heads(message) == (store.author_heads(TOPIC, NOW), False)
    assert hd.heads_message(MemoryStore(), TOPIC, NOW) == b"\x01\x00\x00"


def test_a_partial_heads_message_pushes_nothing_for_unlisted_authors(monkeypatch):
    envs = pool()
    monkeypatch.setattr(hd, "MAX_HEADS", 2)
    message = hd.heads_message(store_of(()), TOPIC, NOW)
    assert hd.answer_heads(store_of(envs), TOPIC, message, NOW) == [e.id for e in sorted(
        envs, key=lambda e: (e.created, e.id))]  # an empty peer lacks everything
    peer = store_of(envs[:50])
    partial = hd.heads_message(peer, TOPIC, NOW)
    listed, is_partial = hd.parse_heads(partial)
    assert is_partial and len(listed) == 2
    got = hd.answer_heads(store_of(envs), TOPIC, partial, NOW)
    assert got and {e.author for e in envs if e.id in set(got)} <= set(listed)


HEAD = b"\x01\x00\x01" + b"\x05" * 32
BAD_HEADS = {
    "version": b"\x02\x00\x00",
    "flags": b"\x01\x02\x00",
    "truncated": HEAD[:-5],
    "missing seq": HEAD,
    "trailing": HEAD + b"\x01\x00",
    "absurd count": b"\x01\x00" + rc.varint(2**40) + b"\x05" * 32 + b"\x01",
    "unsorted": b"\x01\x00\x02" + b"\x05" * 32 + b"\x01" + b"\x04" * 32 + b"\x01",
    "seq too large": HEAD + rc.varint(2**63),
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_HEADS))
def test_malformed_heads_are_remote_errors(name):
    with pytest.raises(RemoteProtocolError):
        hd.answer_heads(store_of(pool()[:10]), TOPIC, BAD_HEADS[name], NOW)


@given(st.binary(max_size=120))
def test_arbitrary_heads_bytes_parse_or_raise_remote_errors(data):
    try:
        hd.parse_heads(data)
    except RemoteProtocolError:
        pass
