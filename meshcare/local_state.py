"""This node's private state beside the store: circle secrets, invites it is using, counters, its own plan.

Everything in it is secret or personal, so the file (``circles.state`` in the data dir) is encrypted
with a key derived from the identity seed (which is itself protected by the keystore), written 0600,
and replaced atomically (write a temporary file, fsync, rename, fsync the directory): a crash leaves the
old state or the new one, never half of each. Writes are rare (people act at human speed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .crypto import kdf
from .crypto import seal as _seal
from .crypto.keys import Identity
from .errors import RemoteProtocolError, StoreError
from .files import replace_private
from .wire import pack, unpack_strict

FILE_NAME: Final = "circles.state"
VERSION: Final = 2
_AD: Final = b"meshcare/local-state/v1"


@dataclass
class CircleEntry:
    secret: bytes
    founder: bytes
    verified: set[bytes] = field(default_factory=set)
    joined: int = 0
    #: roster-key generations handed over in the welcome (those before we joined; later ones are
    #: re-learned from the roster operations in the store at every start)
    roster_keys: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Joining:
    """A token this node is using to join, until the welcome arrives."""

    token: str
    name: str
    since: int


@dataclass
class LocalState:
    circles: dict[bytes, CircleEntry] = field(default_factory=dict)      # topic -> entry
    joining: dict[bytes, Joining] = field(default_factory=dict)          # invite key -> joining
    seq: dict[bytes, int] = field(default_factory=dict)                  # topic -> last seq this node used
    prev: dict[bytes, bytes] = field(default_factory=dict)               # topic -> id of that envelope
    plan: dict[str, str] | None = None
    followups: set[bytes] = field(default_factory=set)                   # calls whose follow-up was posted

    def to_obj(self) -> list[Any]:
        return [VERSION,
                [[t, c.secret, c.founder, sorted(c.verified), c.joined, sorted(c.roster_keys.items())]
                 for t, c in sorted(self.circles.items())],
                [[k, j.token, j.name, j.since] for k, j in sorted(self.joining.items())],
                [[t, n, self.prev.get(t, b"")] for t, n in sorted(self.seq.items())],
                self.plan,
                sorted(self.followups)]

    @classmethod
    def from_obj(cls, obj: Any) -> "LocalState":
        if type(obj) is not list or len(obj) != 6 or obj[0] != VERSION:
            raise StoreError("the circle state file is from another meshcare version")
        _, circles, joining, seq, plan, followups = obj
        return cls({t: CircleEntry(s, f, set(v), j, {g: k for g, k in r}) for t, s, f, v, j, r in circles},
                   {k: Joining(tok, n, s) for k, tok, n, s in joining},
                   {t: n for t, n, _ in seq}, {t: p for t, _, p in seq if p}, plan, set(followups))


class LocalStateFile:
    """Load once at start; ``save`` after every change."""

    def __init__(self, directory: Path, identity: Identity) -> None:
        self.path = directory / FILE_NAME
        self._key = kdf.derive_key(identity.seed, kdf.LOCAL_STATE)

    def load(self) -> LocalState:
        """The saved state, or an empty one if there is none. Raises StoreError if it is unreadable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return LocalState()
        try:
            return LocalState.from_obj(unpack_strict(_seal.unbox(self._key, data, _AD), "local state"))
        except (RemoteProtocolError, TypeError, ValueError):
            raise StoreError(
                f"cannot read {self.path}: it is damaged or belongs to another identity. Move it away to "
                "start without circles (you will need new invites), or restore it from a backup") from None

    def save(self, state: LocalState) -> None:
        replace_private(self.path, _seal.box(self._key, pack(state.to_obj()), _AD))


class MemoryStateFile:
    """For tests and in-memory daemons: same interface, nothing on disk."""

    def __init__(self) -> None:
        self.state = LocalState()

    def load(self) -> LocalState:
        return self.state

    def save(self, state: LocalState) -> None:
        self.state = state
