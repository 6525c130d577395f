"""Invite tokens and the lobby where a token holder asks to join. Pure.

Theory of operation
-------------------
A facilitator's ``invite`` roster operation publishes an invite *public* key, its role and its expiry.
The token carries the matching secret (an Ed25519 seed), the circle's topic and founder, and addresses
where some member may be reachable. Joining needs no particular member online:

1. The joiner derives the invite's **lobby** (topic and key, from the invite public key), connects to any
   reachable node, and posts a ``join`` request there: its identity, a display name, and a proof (the
   invite key's signature over circle topic + joiner identity). Members and relays know the invite from
   the roster, so they serve that lobby while the invite is open, and only then.
2. Any member's node that sees a valid request for an open invite publishes ``admit`` in the circle
   (with a new epoch key sealed to everyone including the joiner) and a ``welcome`` in the lobby: the
   circle secret, sealed to the joiner's key. The inviter's node does it at once; others wait a little,
   and skip it if the admission has arrived meanwhile (the fold keeps only the first anyway).
3. The joiner checks that the secret really derives the topic its token named, then syncs the circle:
   links now carry it, because the roster says the joiner is a member.

A token is single-use (the fold accepts one ``admit`` per invite), expires, and can be revoked. A leaked
token that was used, revoked or expired gives nothing: no member serves its lobby or admits with it, and
the welcome it led to was sealed to the person who used it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from .. import envelope as env
from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto import sign as _sign
from ..crypto.keys import Identity, x25519_public
from ..errors import BadInput, RemoteProtocolError
from .. import vocab
from ..ids import TopicId
from ..wire import pack, unpack_strict
from . import membership as ms

TOKEN_PREFIX: Final = "MC1"
TOKEN_VERSION: Final = 1
MAX_HINTS: Final = 4
DEFAULT_VALID_S: Final = vocab.DEFAULT_INVITE_HOURS * 3600
#: Why a member's node refused a join request (``refusal`` lobby post); the joiner shows it in words.
REFUSAL_REASONS: Final = vocab.REFUSAL_REASONS


@dataclass(frozen=True, slots=True)
class Token:
    topic: bytes
    founder: bytes
    seed: bytes                       # the invite's secret key
    expires: int
    circle_name: str
    hints: tuple[str, ...] = ()       # "host:port" where a member may be reachable

    @property
    def invite_key(self) -> bytes:
        return _sign.public_key(self.seed)

    def encode(self) -> str:
        """Copy-pasteable text: ``MC1`` + base32 (letters and digits only, QR alphanumeric friendly)."""
        body = pack([TOKEN_VERSION, self.topic, self.founder, self.seed, self.expires, self.circle_name,
                     list(self.hints)])
        check = hashlib.blake2b(body, digest_size=4).digest()
        return TOKEN_PREFIX + base64.b32encode(body + check).decode().rstrip("=")


def parse_token(text: str) -> Token:
    """Read a token as a person pasted it (spaces, line breaks and case do not matter). Raises BadInput."""
    compact = "".join(text.split()).upper()
    if not compact.startswith(TOKEN_PREFIX):
        raise BadInput("that is not a meshcare invite token (they start with MC1)")
    data = compact[len(TOKEN_PREFIX):]
    try:
        raw = base64.b32decode(data + "=" * (-len(data) % 8))
    except ValueError:
        raise BadInput("the invite token is damaged (not valid base32); copy it again") from None
    body, check = raw[:-4], raw[-4:]
    if len(raw) < 8 or hashlib.blake2b(body, digest_size=4).digest() != check:
        raise BadInput("the invite token is damaged or incomplete; copy it again") from None
    try:
        items = unpack_strict(body, "token")
    except RemoteProtocolError:
        raise BadInput("the invite token is damaged; copy it again") from None
    if type(items) is not list or len(items) != 7 or items[0] != TOKEN_VERSION:
        raise BadInput("this invite token is from another meshcare version; update meshcare")
    _, topic, founder, seed, expires, name, hints = items
    if (type(topic) is not bytes or len(topic) != env.TOPIC_SIZE or type(founder) is not bytes
            or len(founder) != 32 or type(seed) is not bytes or len(seed) != 32 or type(expires) is not int
            or type(name) is not str or type(hints) is not list or len(hints) > MAX_HINTS
            or not all(type(h) is str and len(h) < 300 for h in hints)):
        raise BadInput("the invite token is damaged; copy it again")
    return Token(topic, founder, seed, expires, name, tuple(hints))


def new_invite_seed(random_bytes: _seal.RandomBytes = _seal.system_random) -> bytes:
    return _seal.random_key(random_bytes)


@dataclass(frozen=True, slots=True)
class Lobby:
    """Where holders of one invite ask to join. Anyone who knows the invite public key can read it."""

    invite_key: bytes
    circle_topic: bytes

    @property
    def topic(self) -> TopicId:
        return TopicId(kdf.derive_key(self.invite_key, kdf.LOBBY_TOPIC, self.circle_topic, size=env.TOPIC_SIZE))

    @property
    def key(self) -> bytes:
        return kdf.derive_key(self.invite_key, kdf.LOBBY_KEY, self.circle_topic)

    # Each post below draws its envelope nonce (and a welcome its sealed box) from ``random_bytes``.

    def join_request(self, identity: Identity, token: Token, name: str, now: int,
                     random_bytes: _seal.RandomBytes = _seal.system_random) -> env.Envelope:
        proof = _sign.sign_with_seed(token.seed, ms.INVITE_DOMAIN,
                                     ms.invite_proof_message(self.circle_topic, identity.node_id))
        body = {"k": "join", "member": bytes(identity.node_id), "name": name, "proof": proof}
        return self._seal(identity, body, now, max(now, token.expires), random_bytes)

    def welcome(self, identity: Identity, joiner: bytes, secret: bytes, founder: bytes, now: int,
                expires: int, roster_keys: list[list[Any]] | None = None,
                random_bytes: _seal.RandomBytes = _seal.system_random) -> env.Envelope:
        """The circle secret (topic and founding roster key: nothing a later removal must hide) and every
        roster-key generation since, sealed to the joiner, so it can fold the whole history."""
        sealed = _seal.seal_to(x25519_public(joiner), pack([secret, founder, roster_keys or []]), random_bytes)
        return self._seal(identity, {"k": "welcome", "member": joiner, "sealed": sealed}, now, max(now, expires),
                          random_bytes)

    def refusal(self, identity: Identity, joiner: bytes, reason: str, now: int, expires: int,
                random_bytes: _seal.RandomBytes = _seal.system_random) -> env.Envelope:
        """A member's answer to a join request it cannot admit (the invite was used, revoked or has
        expired), so the joiner is told instead of waiting for ever. Signed by the member; it names
        the request's author and nothing about the circle."""
        if reason not in REFUSAL_REASONS:
            raise BadInput(f"a refusal says one of {', '.join(REFUSAL_REASONS)}")
        return self._seal(identity, {"k": "refusal", "member": joiner, "reason": reason}, now, max(now + 1, expires),
                          random_bytes)

    def _seal(self, identity: Identity, body: dict[str, Any], now: int, expires: int,
              random_bytes: _seal.RandomBytes) -> env.Envelope:
        return env.seal(signing_key=identity.signing_key, topic=self.topic, epoch=0, key=self.key, seq=1,
                        lamport=1, created=now, expires=expires, plaintext=pack(body), lane=env.Lane.URGENT,
                        nonce=_seal.random_nonce(random_bytes))

    def read(self, e: env.Envelope) -> dict[str, Any]:
        """A lobby post, checked: ``join`` (with a valid proof, by the member it names), ``welcome`` or
        ``refusal``.

        Raises RemoteProtocolError for anything else.
        """
        body = unpack_strict(env.open_body(e, self.key), "lobby post")
        if type(body) is not dict:
            raise RemoteProtocolError("a lobby post is a map")
        if body.get("k") == "join":
            member, name, proof = body.get("member"), body.get("name"), body.get("proof")
            if (member != e.author or type(name) is not str or not 1 <= len(name) <= ms.MAX_NAME
                    or not name.isprintable()
                    or type(proof) is not bytes
                    or not ms.check_invite_proof(self.invite_key, self.circle_topic, member, proof)):
                raise RemoteProtocolError("join request with a wrong proof, name or author")
            return {"k": "join", "member": member, "name": name, "proof": proof}
        if body.get("k") == "welcome":
            if type(body.get("member")) is not bytes or type(body.get("sealed")) is not bytes:
                raise RemoteProtocolError("malformed welcome")
            return {"k": "welcome", "member": body["member"], "sealed": body["sealed"]}
        if body.get("k") == "refusal":
            if (type(body.get("member")) is not bytes or len(body["member"]) != 32
                    or body.get("reason") not in REFUSAL_REASONS or set(body) != {"k", "member", "reason"}):
                raise RemoteProtocolError("malformed refusal")
            return {"k": "refusal", "member": body["member"], "reason": body["reason"]}
        raise RemoteProtocolError("unknown lobby post")


def open_welcome(identity: Identity, sealed: bytes, token: Token) -> tuple[bytes, dict[int, bytes]]:
    """The circle secret and the roster-key generations from a welcome sealed to us; checks the secret
    derives the topic the token named.

    Raises RemoteProtocolError if the welcome was not for us, names another circle or is malformed.
    """
    from .circle import circle_topic
    from .keyring import MAX_WELCOME_KEYS
    items = unpack_strict(_seal.open_sealed(identity.x25519_private, sealed), "welcome")
    if (type(items) is not list or len(items) != 3 or type(items[0]) is not bytes or len(items[0]) != 32
            or type(items[2]) is not list or len(items[2]) > MAX_WELCOME_KEYS):
        raise RemoteProtocolError("malformed welcome")
    secret, founder, pairs = items
    if founder != token.founder or circle_topic(secret, founder) != token.topic:
        raise RemoteProtocolError("a welcome for another circle than the token names")
    keys: dict[int, bytes] = {}
    for pair in pairs:
        if (type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int
                or not 0 < pair[0] < ms.ROSTER_LIMIT or type(pair[1]) is not bytes or len(pair[1]) != 32):
            continue        # generation 0 comes from the secret; anything else malformed is skipped
        keys[pair[0]] = pair[1]
    return bytes(secret), keys
