"""The lobby of one recovery request: the topic where holders release their shares to the new device. Pure.

Like an invite's lobby (``circles/invites.py``), it is named by a key derived from a public value, here
the request's X25519 key: whoever knows the REQUEST code can find and read the lobby, and nothing else
can. What matters is inside: each release is sealed to the request key (only the new device opens it),
and signed by the holder's identity (the envelope's author), which the new device checks against the
record the owner signed (``collect.py``). A lobby post is ``{"k": "release", "sealed": bytes}``; nodes
that serve the lobby accept nothing else, and nothing larger than a release can be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .. import envelope as env
from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto.keys import Identity
from ..errors import RemoteProtocolError
from ..ids import TopicId
from ..wire import pack, unpack_strict
from .records import MAX_RELEASE

#: How long a holder's node serves the lobby it released into, and how long the release lives.
SERVE_FOR: Final = 24 * 3600


@dataclass(frozen=True, slots=True)
class RecoveryLobby:
    request_key: bytes

    @property
    def topic(self) -> TopicId:
        return TopicId(kdf.derive_key(self.request_key, kdf.RECOVERY_TOPIC, size=env.TOPIC_SIZE))

    @property
    def key(self) -> bytes:
        return kdf.derive_key(self.request_key, kdf.RECOVERY_KEY)

    def release(self, identity: Identity, sealed: bytes, now: int,
                random_bytes: _seal.RandomBytes = _seal.system_random) -> env.Envelope:
        """The holder's release, signed by the holder, living ``SERVE_FOR``."""
        return env.seal(signing_key=identity.signing_key, topic=self.topic, epoch=0, key=self.key, seq=1,
                        lamport=1, created=now, expires=now + SERVE_FOR,
                        plaintext=pack({"k": "release", "sealed": sealed}), lane=env.Lane.NORMAL,
                        nonce=_seal.random_nonce(random_bytes))

    def read(self, e: env.Envelope) -> bytes:
        """The sealed release an envelope of this lobby carries. Raises RemoteProtocolError for anything else."""
        if e.topic != self.topic:
            raise RemoteProtocolError("not an envelope of this recovery lobby")
        if e.expires - e.created > SERVE_FOR:
            raise RemoteProtocolError("a release lives a day at most")
        body = unpack_strict(env.open_body(e, self.key), "recovery lobby post")
        if (type(body) is not dict or set(body) != {"k", "sealed"} or body["k"] != "release"
                or type(body["sealed"]) is not bytes or not 0 < len(body["sealed"]) <= MAX_RELEASE):
            raise RemoteProtocolError("a recovery lobby holds releases only")
        return bytes(body["sealed"])
