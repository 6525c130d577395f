"""The local state file: ``circles.state`` in the data dir, encrypted, 0600, replaced atomically.

The state is secret or personal, so the file is encrypted with a key derived from the identity seed
(which is itself protected by the keystore), written 0600, and replaced atomically (write a temporary
file, fsync, rename, fsync the directory): a crash leaves the old state or the new one, never half of
each. Writes are rare (people act at human speed). The model it holds is ``circles/state.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from ..circles.state import LocalState
from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto.keys import Identity
from ..errors import RemoteProtocolError, StoreError
from ..files import replace_private
from ..wire import pack, unpack_strict

FILE_NAME: Final = "circles.state"
_AD: Final = b"meshcare/local-state/v1"


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
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror or exc}; it must be a file you own and "
                             "can read") from None
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
