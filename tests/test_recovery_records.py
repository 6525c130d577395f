"""Social recovery's pure parts: the signed setup record, REQUEST codes, releases, what a holder keeps,
and the new device's fold, which refuses every forged or misplaced release with a reason."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from meshcare.circles.posts import Post
from meshcare.circles.state import LocalState, Requesting
from meshcare.crypto.keys import Identity
from meshcare.crypto.seal import x25519_public_of
from meshcare.errors import BadInput, RemoteProtocolError
from meshcare.recovery import collect as cl
from meshcare.recovery import holding, shamir
from meshcare.recovery.lobby import RecoveryLobby
from meshcare.recovery.records import (Held, RecoveryRequest, check_package, fingerprint, parse_request,
                                       read_record, seal_release, sign_record)
from meshcare.wire import pack, unpack_strict

OWNER = Identity.generate("ann")
HOLDERS = [Identity.generate(n) for n in ("bob", "cat", "dan")]
OUTSIDER = Identity.generate("eve")
BUNDLE = b"sealed bundle bytes" * 10


def _ids(*who: Identity) -> list[tuple[bytes, str]]:
    return [(bytes(i.node_id), i.name) for i in who]


def _setup(key: bytes = b"\x07" * 32, created: int = 1000, owner: Identity = OWNER,
           bundle: bytes = BUNDLE) -> tuple[list[Held], bytes]:
    """Shares for bob, cat, dan (2 of 3) as each holder keeps them, and the record."""
    shares = shamir.split(key, 2, 3)
    record = sign_record(owner, os.urandom(16), 2, _ids(*HOLDERS), shamir.info(shares[0]).identifier, bundle, created)
    held = [Held(s, bundle, record.encode(), b"c" * 16, created) for s in shares]
    return held, record.encode()


REQUEST_PRIVATE = b"\x11" * 32
REQUEST_KEY = x25519_public_of(REQUEST_PRIVATE)


def _release(holder: Identity, held: Held) -> tuple[bytes, bytes]:
    return bytes(holder.node_id), seal_release(REQUEST_KEY, held)


# --- the setup record --------------------------------------------------------------------------------


def test_a_record_round_trips_and_names_its_holders_in_order() -> None:
    held, raw = _setup()
    record = read_record(raw)
    assert record.owner == bytes(OWNER.node_id) and record.name == "ann" and record.threshold == 2
    assert [record.index_of(bytes(h.node_id)) for h in HOLDERS] == [0, 1, 2]
    assert record.index_of(bytes(OUTSIDER.node_id)) is None
    assert check_package(bytes(HOLDERS[1].node_id), held[1].share, held[1].bundle, raw) == record


_, RECORD = _setup()       # one record for the whole run: hypothesis draws positions within its length


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_changed_byte_of_a_record_is_refused(data: st.DataObject) -> None:
    raw = RECORD
    i = data.draw(st.integers(0, len(raw) - 1))
    flipped = raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1:]
    with pytest.raises(RemoteProtocolError):
        read_record(flipped)


def test_a_record_signed_by_someone_else_is_refused() -> None:
    _, raw = _setup()
    items = unpack_strict(raw)
    items[2] = bytes(OUTSIDER.node_id)                  # claims to be eve's, signed by ann
    with pytest.raises(RemoteProtocolError, match="not signed"):
        read_record(pack(items))


@pytest.mark.parametrize("junk", [b"", b"\x90", pack([1, 2, 3]), pack("x" * 3000).ljust(10), b"\xff" * 100])
def test_junk_is_not_a_record(junk: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        read_record(junk)


# --- REQUEST codes --------------------------------------------------------------------------------------


def test_a_request_code_round_trips_and_survives_how_people_paste_it() -> None:
    code = RecoveryRequest(REQUEST_KEY, bytes(OWNER.node_id), "ann", ("127.0.0.1:7447",))
    text = code.encode()
    assert text.startswith("MCR1") and text.isalnum() and text == text.upper()
    pasted = " ".join(text[i:i + 20] for i in range(0, len(text), 20)).lower() + "\n"
    assert parse_request(pasted) == code
    assert len(code.fingerprint.split()) == 6 and all(len(g) == 5 and g.isdigit() for g in code.fingerprint.split())
    assert fingerprint(REQUEST_KEY) != fingerprint(x25519_public_of(b"\x12" * 32))


@pytest.mark.parametrize("text", ["", "hello", "MC1ABCDEF", "MCR1", "MCR1!!!!", "MCR1AAAAAAAAAAAAAAAA"])
def test_a_malformed_request_code_is_refused_in_words(text: str) -> None:
    with pytest.raises(BadInput, match="recovery request"):
        parse_request(text)


def test_a_damaged_request_code_is_caught_by_its_check() -> None:
    text = RecoveryRequest(REQUEST_KEY, b"", "ann").encode()
    damaged = text[:10] + ("A" if text[10] != "A" else "B") + text[11:]
    with pytest.raises(BadInput, match="damaged"):
        parse_request(damaged)


# --- the new device's fold ------------------------------------------------------------------------------


def test_k_minus_one_releases_open_nothing_and_k_do() -> None:
    key = b"\x42" * 32
    held, raw = _setup(key)
    one = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[0], held[0])])
    assert one.key is None and one.needed == 1 and one.accepted == (bytes(HOLDERS[0].node_id),)
    two = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[2], held[2]), _release(HOLDERS[0], held[0])])
    assert two.key == key and two.needed == 0 and two.bundle == BUNDLE and not two.refused
    assert two.accepted == (bytes(HOLDERS[0].node_id), bytes(HOLDERS[2].node_id))   # in share order


def test_a_share_from_someone_who_was_not_chosen_is_refused() -> None:
    held, _ = _setup()
    progress = cl.collect(REQUEST_PRIVATE, [_release(OUTSIDER, held[0]), _release(HOLDERS[1], held[1])])
    assert progress.key is None and progress.needed == 1
    assert [(r.holder, r.reason) for r in progress.refused] == [(bytes(OUTSIDER.node_id), cl.NOT_CHOSEN)]


def test_a_share_sent_by_the_wrong_holder_has_the_wrong_index() -> None:
    held, _ = _setup()
    progress = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[1], held[0]), _release(HOLDERS[2], held[2])])
    assert progress.key is None
    assert [r.reason for r in progress.refused] == ["a share with the wrong index for its holder"]


def test_a_forged_record_is_refused() -> None:
    """eve makes her own setup naming bob, cat and dan, signed by her: she cannot make it ann's."""
    held, _ = _setup()
    forged, _ = _setup(owner=OUTSIDER)
    progress = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[0], held[0]), _release(HOLDERS[1], forged[1])],
                          owner=bytes(OWNER.node_id))
    assert progress.key is None and [r.reason for r in progress.refused] == [cl.SOMEONE_ELSE]


def test_a_share_from_a_replaced_setup_is_refused_as_superseded() -> None:
    old, _ = _setup(created=1000)
    new, _ = _setup(created=2000)
    progress = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[0], old[0]), _release(HOLDERS[1], new[1])])
    assert progress.key is None and progress.record is not None and progress.record.created == 2000
    assert [r.reason for r in progress.refused] == [cl.SUPERSEDED]


def test_a_bundle_swapped_under_a_valid_share_is_refused() -> None:
    held, _ = _setup()
    swapped = Held(held[0].share, b"another bundle", held[0].record, held[0].circle, held[0].received)
    progress = cl.collect(REQUEST_PRIVATE, [_release(HOLDERS[0], swapped)])
    assert [r.reason for r in progress.refused] == ["the sealed bundle is not the one the setup record names"]


def test_releases_for_another_request_or_junk_are_refused_not_raised() -> None:
    held, _ = _setup()
    other = seal_release(x25519_public_of(b"\x13" * 32), held[0])
    progress = cl.collect(REQUEST_PRIVATE, [(bytes(HOLDERS[0].node_id), other), (b"\x01" * 32, b"junk"),
                                            (b"\x02" * 32, b"")])
    assert progress.key is None and {r.reason for r in progress.refused} == {cl.NOT_FOR_US}


@settings(max_examples=20, deadline=None)
@given(order=st.permutations(range(3)), dup=st.booleans())
def test_the_fold_does_not_depend_on_order_or_repeats(order: list[int], dup: bool) -> None:
    key = b"\x24" * 32
    held, _ = _setup(key)
    releases = [_release(HOLDERS[i], held[i]) for i in order]
    if dup:
        releases += releases[:1]
    progress = cl.collect(REQUEST_PRIVATE, releases)
    assert progress.key == key and len(progress.accepted) == 3


# --- the lobby --------------------------------------------------------------------------------------------


def test_the_lobby_carries_releases_only() -> None:
    held, _ = _setup()
    lobby = RecoveryLobby(REQUEST_KEY)
    e = lobby.release(HOLDERS[0], seal_release(REQUEST_KEY, held[0]), 5000)
    assert lobby.read(e) and e.expires == 5000 + 24 * 3600
    with pytest.raises(RemoteProtocolError):
        RecoveryLobby(x25519_public_of(b"\x14" * 32)).read(e)


# --- what a holder keeps -----------------------------------------------------------------------------------


def _post(held: Held, to: bytes, author: Identity = OWNER, id: bytes = b"p" * 32) -> Post:
    return Post(id, bytes(author.node_id), held.received, 1, "recovery_share",
                {"to": [to], "share": held.share, "bundle": held.bundle, "record": held.record})


def test_a_holder_keeps_the_newest_setup_only() -> None:
    state = LocalState()
    me = bytes(HOLDERS[0].node_id)
    old, _ = _setup(created=1000)
    new, _ = _setup(created=2000)
    assert holding.keep(state, b"c" * 16, _post(new[0], me), me)
    assert not holding.keep(state, b"c" * 16, _post(old[0], me), me)          # a replay of the older one
    assert state.held[bytes(OWNER.node_id)].record == new[0].record
    assert not holding.keep(state, b"c" * 16, _post(new[1], me), me)          # someone else's index
    assert not holding.keep(state, b"c" * 16, _post(new[0], me, author=OUTSIDER), me)   # not from the owner


def test_local_state_v5_round_trips_and_v4_files_still_load() -> None:
    held, _ = _setup()
    state = LocalState()
    state.held[bytes(OWNER.node_id)] = held[0]
    state.own_setup = (held[0].record, b"c" * 16)
    state.requesting = Requesting(REQUEST_PRIVATE, b"", "ann", 7)
    state.released[REQUEST_KEY] = (bytes(OWNER.node_id), 99)
    again = LocalState.from_obj(state.to_obj())
    assert again.held == state.held and again.own_setup == state.own_setup
    assert again.requesting == state.requesting and again.released == state.released
    v4 = [4, *state.to_obj()[1:8]]
    old = LocalState.from_obj(v4)
    assert old.held == {} and old.requesting is None and old.own_setup is None


def test_a_node_serves_its_request_lobby_and_takes_releases_only() -> None:
    from meshcare import envelope as env
    from meshcare.circles.registry import Registry
    from meshcare.crypto.seal import random_nonce

    state = LocalState()
    state.requesting = Requesting(REQUEST_PRIVATE, b"", "ann", 7)
    registry = Registry(Identity.generate("new"), state)
    lobby = RecoveryLobby(REQUEST_KEY)
    assert lobby.topic in registry.topics(5000)
    assert registry.access(lobby.topic, b"\x09" * 32)
    held, _ = _setup()
    good = lobby.release(HOLDERS[0], seal_release(REQUEST_KEY, held[0]), 5000)
    junk = env.seal(signing_key=OUTSIDER.signing_key, topic=lobby.topic, epoch=0, key=lobby.key, seq=1, lamport=1,
                    created=5000, expires=6000, plaintext=pack({"k": "join"}), nonce=random_nonce())
    forever = env.seal(signing_key=OUTSIDER.signing_key, topic=lobby.topic, epoch=0, key=lobby.key, seq=1,
                       lamport=1, created=5000, expires=2**40,
                       plaintext=pack({"k": "release", "sealed": b"x"}), nonce=random_nonce())
    assert registry.verdicts([good, junk, forever], 5000) == [True, False, False]
    # a holder serves the lobby it released into for a day, then no more
    holder = Registry(HOLDERS[0], LocalState())
    holder.state.released[REQUEST_KEY] = (bytes(OWNER.node_id), 5000 + 86_400)
    assert lobby.topic in holder.topics(5000)
    assert lobby.topic not in holder.topics(5000 + 86_400)
