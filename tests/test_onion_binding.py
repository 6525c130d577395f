"""The link binding's onion form (crypto/binding.py): a dialler over Tor names its onion key, proven by both
its identity and the onion key; any change to the payload is refused; the four-item form is unchanged."""

from __future__ import annotations

import os
from dataclasses import dataclass

import nacl.signing
import pytest
from hypothesis import given, settings, strategies as st

from meshcare.crypto.binding import check_binding, make_binding
from meshcare.crypto.channel import Handshake
from meshcare.crypto.keys import Identity
from meshcare.errors import RemoteProtocolError
from meshcare.wire import pack, unpack_strict

ALICE = Identity.generate("alice")
BOB = Identity.generate("bob")


@dataclass(frozen=True)
class Onion:
    """A stand-in with the two fields of crypto/onion_key.OnionKey the binding reads."""

    seed: bytes
    public: bytes

    @classmethod
    def generate(cls) -> "Onion":
        seed = os.urandom(32)
        return cls(seed, bytes(nacl.signing.SigningKey(seed).verify_key))


ONION = Onion.generate()


def test_four_item_form_is_unchanged() -> None:
    payload = make_binding(ALICE, 7447)
    assert len(unpack_strict(payload, "t")) == 4
    assert check_binding(payload, ALICE.x25519_public) == (ALICE.node_id, 7447, None)


def test_onion_form_names_the_onion_key() -> None:
    payload = make_binding(ALICE, 7447, ONION)
    assert check_binding(payload, ALICE.x25519_public) == (ALICE.node_id, 7447, ONION.public)


def test_onion_items_cannot_be_stripped_or_swapped() -> None:
    items = unpack_strict(make_binding(ALICE, 7447, ONION), "t")
    with pytest.raises(RemoteProtocolError):      # the identity signed the onion form's domain
        check_binding(pack(items[:4]), ALICE.x25519_public)
    other = Onion.generate()
    with pytest.raises(RemoteProtocolError):      # another onion key, without its proof
        check_binding(pack([*items[:4], other.public, items[5]]), ALICE.x25519_public)
    theirs = unpack_strict(make_binding(BOB, 7447, other), "t")
    with pytest.raises(RemoteProtocolError):      # bob's onion proof in alice's binding
        check_binding(pack([*items[:4], theirs[4], theirs[5]]), ALICE.x25519_public)


def test_onion_form_is_bound_to_the_static_key() -> None:
    with pytest.raises(RemoteProtocolError):
        check_binding(make_binding(ALICE, 7447, ONION), BOB.x25519_public)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_mutation_fails(data: st.DataObject) -> None:
    payload = bytearray(make_binding(ALICE, 7447, ONION))
    kind = data.draw(st.sampled_from(["flip", "cut", "append"]))
    if kind == "flip":
        i = data.draw(st.integers(0, len(payload) - 1))
        payload[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "cut":
        del payload[data.draw(st.integers(0, len(payload) - 1)):]
    else:
        payload += data.draw(st.binary(min_size=1, max_size=8))
    with pytest.raises(RemoteProtocolError):
        check_binding(bytes(payload), ALICE.x25519_public)


@given(st.lists(st.one_of(st.binary(max_size=70), st.integers(-(2 ** 63), 2 ** 64 - 1), st.none(), st.text(max_size=4)), max_size=8))
@settings(max_examples=200, deadline=None)
def test_hostile_payloads_are_remote_errors(items: list[object]) -> None:
    with pytest.raises(RemoteProtocolError):
        check_binding(pack([1, *items]), ALICE.x25519_public)


def test_handshake_exposes_remote_onion() -> None:
    initiator = Handshake(ALICE, True, 0, ONION)
    responder = Handshake(BOB, False, 7447)
    message = initiator.start()
    responder.start()
    while initiator.channel is None or responder.channel is None:
        message = responder.receive(message)
        if initiator.channel is None:
            message = initiator.receive(message)
    assert responder.channel.remote_onion == ONION.public
    assert initiator.channel.remote_onion is None
