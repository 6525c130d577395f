"""Invite tokens (the text people paste) and the lobby where a token holder asks to join."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import membership as ms
from meshcare.circles.circle import Circle, circle_topic
from meshcare.circles.invites import (MAX_HINTS, TOKEN_PREFIX, Lobby, Token, new_invite_seed, open_welcome,
                                      parse_token)
from meshcare.crypto import sign
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, RemoteProtocolError
from meshcare.wire import pack

T = 1_800_000_000
HYP = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def token(**changes: Any) -> Token:
    fields: dict[str, Any] = {"topic": os.urandom(16), "founder": os.urandom(32), "seed": new_invite_seed(),
                              "expires": T + 3600, "circle_name": "Tuesday circle",
                              "hints": ("192.168.1.20:7447",)}
    fields.update(changes)
    return Token(**fields)


def encode_raw(items: list[Any]) -> str:
    """A token encoding of arbitrary items, with a valid check: what another version might write."""
    body = pack(items)
    return TOKEN_PREFIX + base64.b32encode(body + hashlib.blake2b(body, digest_size=4).digest()).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------------
# tokens


tokens = st.builds(
    Token,
    topic=st.binary(min_size=16, max_size=16),
    founder=st.binary(min_size=32, max_size=32),
    seed=st.binary(min_size=32, max_size=32),
    expires=st.integers(0, 2**63 - 1),
    circle_name=st.text(max_size=80),
    hints=st.lists(st.text(max_size=299), max_size=MAX_HINTS).map(tuple),
)


@HYP
@given(tokens)
def test_a_token_round_trips(t: Token) -> None:
    text = t.encode()
    assert text.startswith("MC1") and set(text[3:]) <= set(B32)
    assert parse_token(text) == t
    assert parse_token(text).invite_key == sign.public_key(t.seed)


@HYP
@given(tokens, st.data())
def test_spaces_line_breaks_and_case_do_not_matter(t: Token, data: st.DataObject) -> None:
    text = t.encode()
    pieces = []
    for ch in text:
        pieces.append(ch.lower() if data.draw(st.booleans()) else ch)
        pieces.append(data.draw(st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n"])))
    messy = "  " + "".join(pieces) + "\n"
    assert parse_token(messy) == t


@HYP
@given(st.data())
def test_a_changed_character_is_noticed(data: st.DataObject) -> None:
    t = token(circle_name=data.draw(st.text(max_size=20)))
    text = t.encode()
    i = data.draw(st.integers(len(TOKEN_PREFIX), len(text) - 1), label="position")
    new = data.draw(st.sampled_from([c for c in B32 + "0189" if c != text[i]]), label="replacement")
    damaged = text[:i] + new + text[i + 1:]
    if i < len(text) - 1:
        with pytest.raises(BadInput, match="copy it again"):
            parse_token(damaged)
    else:
        # the last character may hold padding bits: a change there either is noticed or changes nothing
        try:
            assert parse_token(damaged) == t
        except BadInput as exc:
            assert "copy it again" in str(exc)


@HYP
@given(st.data())
def test_a_truncated_token_is_noticed(data: st.DataObject) -> None:
    text = token().encode()
    cut = data.draw(st.integers(1, len(text) - len(TOKEN_PREFIX)))
    with pytest.raises(BadInput, match="copy it again"):
        parse_token(text[:-cut])


def test_damage_messages_help() -> None:
    text = token().encode()
    with pytest.raises(BadInput, match="not valid base32"):
        parse_token(text[:-1] + "1")
    with pytest.raises(BadInput, match="damaged or incomplete"):
        parse_token(text[:-8])
    with pytest.raises(BadInput, match="damaged or incomplete"):
        parse_token(TOKEN_PREFIX)
    with pytest.raises(BadInput, match="damaged or incomplete"):
        parse_token(text + "AAAAAAAA")


@pytest.mark.parametrize("text", ["", "hello", "MC2ABCDEFGH", "XC1AAAA", "1MC1AAAA", "https://example.org/MC1"])
def test_a_wrong_prefix_says_what_a_token_looks_like(text: str) -> None:
    with pytest.raises(BadInput, match="start with MC1"):
        parse_token(text)


def test_a_token_without_its_prefix_is_refused() -> None:
    with pytest.raises(BadInput, match="MC1"):
        parse_token(token().encode()[3:])


def test_another_version_asks_for_an_update() -> None:
    t = token()
    items = [2, t.topic, t.founder, t.seed, t.expires, t.circle_name, list(t.hints)]
    with pytest.raises(BadInput, match="another meshcare version; update meshcare"):
        parse_token(encode_raw(items))
    with pytest.raises(BadInput, match="another meshcare version"):
        parse_token(encode_raw([1, t.topic, t.founder, t.seed, t.expires, t.circle_name]))
    with pytest.raises(BadInput, match="another meshcare version"):
        parse_token(encode_raw({"version": 1}))    # type: ignore[arg-type]
    assert parse_token(encode_raw([1, t.topic, t.founder, t.seed, t.expires, t.circle_name, list(t.hints)])) == t


@pytest.mark.parametrize("index,value", [
    (1, b"t" * 15), (1, "t" * 16), (2, b"f" * 31), (3, b"s" * 33), (4, "soon"), (4, 1.5), (5, b"name"),
    (6, "host:1"), (6, ["a:1"] * (MAX_HINTS + 1)), (6, [b"host:1"]), (6, ["h" * 300]),
])
def test_wrong_fields_are_damage(index: int, value: object) -> None:
    t = token()
    items: list[Any] = [1, t.topic, t.founder, t.seed, t.expires, t.circle_name, list(t.hints)]
    items[index] = value
    with pytest.raises(BadInput, match="damaged"):
        parse_token(encode_raw(items))


def test_a_valid_check_over_something_that_is_not_msgpack_is_damage() -> None:
    body = b"\xc1\xc1\xc1\xc1"            # 0xc1 is never used in msgpack
    text = TOKEN_PREFIX + base64.b32encode(body + hashlib.blake2b(body, digest_size=4).digest()).decode().rstrip("=")
    with pytest.raises(BadInput, match="damaged"):
        parse_token(text)


# ---------------------------------------------------------------------------------------------------
# the lobby


class Setting:
    """A circle (founder, topic) with one invite, and a joiner holding its token."""

    def __init__(self) -> None:
        self.founder = Identity.generate("founder")
        self.secret = os.urandom(32)
        self.circle = Circle(self.founder, self.secret, bytes(self.founder.node_id))
        self.token = Token(self.circle.topic, bytes(self.founder.node_id), new_invite_seed(), T + 3600, "circle")
        self.lobby = Lobby(self.token.invite_key, self.circle.topic)
        self.joiner = Identity.generate("joiner")


def lobby_post(lobby: Lobby, author: Identity, body: dict[str, Any], *, key: bytes | None = None) -> env.Envelope:
    return env.seal(signing_key=author.signing_key, topic=lobby.topic, epoch=0, key=key or lobby.key, seq=1,
                    lamport=1, created=T, expires=T + 3600, plaintext=pack(body), lane=env.Lane.URGENT)


def test_lobby_topic_and_key_depend_on_the_invite_and_the_circle() -> None:
    s = Setting()
    other_invite = Lobby(sign.public_key(new_invite_seed()), s.circle.topic)
    other_circle = Lobby(s.token.invite_key, os.urandom(16))
    assert len({s.lobby.topic, other_invite.topic, other_circle.topic, s.circle.topic}) == 4
    assert len({s.lobby.key, other_invite.key, other_circle.key, s.circle.roster_key}) == 4
    assert len(s.lobby.topic) == env.TOPIC_SIZE


def test_lobby_posts_draw_their_randomness_from_the_argument() -> None:
    s = Setting()

    def posts(seed: int) -> list[bytes]:
        rng = random.Random(seed).randbytes
        return [s.lobby.join_request(s.joiner, s.token, "Joiner", T, rng).encoded,
                s.lobby.welcome(s.founder, bytes(s.joiner.node_id), s.secret, s.circle.founder, T, T + 60,
                                random_bytes=rng).encoded,
                s.lobby.refusal(s.founder, bytes(s.joiner.node_id), "used", T, T + 60, rng).encoded,
                new_invite_seed(rng)]

    first, other = posts(1), posts(2)
    assert first == posts(1) and all(a != b for a, b in zip(first, other))
    assert s.lobby.read(env.decode(first[1]))["k"] == "welcome"


def test_a_join_request_is_readable_and_its_proof_checks() -> None:
    s = Setting()
    e = s.lobby.join_request(s.joiner, s.token, "Joiner", T)
    assert e.topic == s.lobby.topic and e.author == bytes(s.joiner.node_id) and e.expires == s.token.expires
    env.verify(e)
    post = s.lobby.read(e)
    assert post["k"] == "join" and post["member"] == bytes(s.joiner.node_id) and post["name"] == "Joiner"
    assert ms.check_invite_proof(s.token.invite_key, s.circle.topic, post["member"], post["proof"])


def test_a_join_request_with_a_proof_for_another_member_is_rejected() -> None:
    s = Setting()
    other = Identity.generate("other")
    proof_for_other = sign.sign_with_seed(s.token.seed, ms.INVITE_DOMAIN,
                                          ms.invite_proof_message(s.circle.topic, bytes(other.node_id)))
    e = lobby_post(s.lobby, s.joiner, {"k": "join", "member": bytes(s.joiner.node_id), "name": "J",
                                       "proof": proof_for_other})
    with pytest.raises(RemoteProtocolError, match="wrong proof"):
        s.lobby.read(e)
    # nor may a joiner ask in someone else's name, even with that person's valid proof
    e = lobby_post(s.lobby, s.joiner, {"k": "join", "member": bytes(other.node_id), "name": "J",
                                       "proof": proof_for_other})
    with pytest.raises(RemoteProtocolError, match="wrong proof"):
        s.lobby.read(e)


def test_a_join_request_with_a_proof_for_another_circle_is_rejected() -> None:
    s = Setting()
    proof = sign.sign_with_seed(s.token.seed, ms.INVITE_DOMAIN,
                                ms.invite_proof_message(os.urandom(16), bytes(s.joiner.node_id)))
    e = lobby_post(s.lobby, s.joiner, {"k": "join", "member": bytes(s.joiner.node_id), "name": "J", "proof": proof})
    with pytest.raises(RemoteProtocolError, match="wrong proof"):
        s.lobby.read(e)
    # a proof made with another invite's secret does not do either
    other_seed = new_invite_seed()
    proof = sign.sign_with_seed(other_seed, ms.INVITE_DOMAIN,
                                ms.invite_proof_message(s.circle.topic, bytes(s.joiner.node_id)))
    e = lobby_post(s.lobby, s.joiner, {"k": "join", "member": bytes(s.joiner.node_id), "name": "J", "proof": proof})
    with pytest.raises(RemoteProtocolError):
        s.lobby.read(e)


@pytest.mark.parametrize("body", [
    {"k": "join", "member": None, "name": "J", "proof": b"p" * 64},
    {"k": "join", "name": "J", "proof": b"p" * 64},
    {"k": "join", "name": "", "proof": b"p" * 64},
    {"k": "join", "name": "n" * (ms.MAX_NAME + 1), "proof": b"p" * 64},
    {"k": "join", "name": 5, "proof": b"p" * 64},
    {"k": "join", "name": "J", "proof": "p"},
    {"k": "welcome", "member": "x", "sealed": b"s"},
    {"k": "welcome", "member": b"m" * 32},
    {"k": "hello"},
    {"member": b"m" * 32},
])
def test_malformed_lobby_posts_are_the_peers_fault(body: dict[str, Any]) -> None:
    s = Setting()
    if body.get("k") == "join" and "member" not in body:
        body = {**body, "member": bytes(s.joiner.node_id)}
    e = lobby_post(s.lobby, s.joiner, body)
    with pytest.raises(RemoteProtocolError):
        s.lobby.read(e)


def test_a_lobby_post_that_is_not_a_map_or_under_another_key_is_rejected() -> None:
    s = Setting()
    e = env.seal(signing_key=s.joiner.signing_key, topic=s.lobby.topic, epoch=0, key=s.lobby.key, seq=1,
                 lamport=1, created=T, expires=T + 1, plaintext=pack(["join"]))
    with pytest.raises(RemoteProtocolError):
        s.lobby.read(e)
    other = Lobby(sign.public_key(new_invite_seed()), s.circle.topic)
    good_elsewhere = other.join_request(s.joiner, s.token, "J", T)
    with pytest.raises(RemoteProtocolError):
        s.lobby.read(good_elsewhere)


@pytest.mark.parametrize("name", ["bad\nname", "bell\x07", "\x00"])
def test_a_join_request_whose_name_no_roster_accepts_is_rejected(name: str) -> None:
    s = Setting()
    e = s.lobby.join_request(s.joiner, s.token, name, T)
    with pytest.raises(RemoteProtocolError):
        s.lobby.read(e)


def test_a_welcome_opens_only_for_the_intended_joiner() -> None:
    s = Setting()
    e = s.lobby.welcome(s.founder, bytes(s.joiner.node_id), s.secret, bytes(s.founder.node_id), T, s.token.expires)
    post = s.lobby.read(e)
    assert post["k"] == "welcome" and post["member"] == bytes(s.joiner.node_id)
    assert open_welcome(s.joiner, post["sealed"], s.token) == (s.secret, {})
    bystander = Identity.generate("bystander")
    with pytest.raises(RemoteProtocolError):
        open_welcome(bystander, post["sealed"], s.token)
    with pytest.raises(RemoteProtocolError):
        open_welcome(s.founder, post["sealed"], s.token)


def test_a_welcome_for_another_circle_is_rejected() -> None:
    s = Setting()
    joiner = bytes(s.joiner.node_id)
    founder = bytes(s.founder.node_id)
    other_secret = os.urandom(32)
    assert circle_topic(other_secret, founder) != s.token.topic
    forged = s.lobby.welcome(s.founder, joiner, other_secret, founder, T, T + 60)
    with pytest.raises(RemoteProtocolError, match="another circle"):
        open_welcome(s.joiner, s.lobby.read(forged)["sealed"], s.token)
    # the right secret with another founder names another circle too
    impostor = Identity.generate("impostor")
    forged = s.lobby.welcome(impostor, joiner, s.secret, bytes(impostor.node_id), T, T + 60)
    with pytest.raises(RemoteProtocolError, match="another circle"):
        open_welcome(s.joiner, s.lobby.read(forged)["sealed"], s.token)


@pytest.mark.parametrize("content", [pack("secret"), pack([b"s" * 31, b"f" * 32]), pack([b"s" * 32]), b"\xc1"])
def test_a_malformed_welcome_is_rejected(content: bytes) -> None:
    from meshcare.crypto import seal
    s = Setting()
    sealed = seal.seal_to(s.joiner.x25519_public, content)
    with pytest.raises(RemoteProtocolError):
        open_welcome(s.joiner, sealed, s.token)
