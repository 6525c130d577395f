"""A bundle from a data directory's files, and a bundle written as a new data directory.

``restore`` never leaves half a data directory: everything is written into a new directory beside the
target (mode 0700, every file 0600 and fsynced), and only when all of it is on disk is that directory
renamed into place and its parent fsynced. An existing node is never overwritten: without ``replace`` a
target holding an identity is refused; with it, the old directory is first renamed aside to
``<target>.before-import-<time>`` (kept, never deleted). A target where a daemon runs is refused
either way (stop it first: it holds the old files open).

The chain counters jump on restore. A backup is older than the node it came from: that node may have
published envelopes after it was made, and if the restored node reused one of those sequence numbers
before its neighbours brought the newer envelopes back, every node would drop the post as
equivocation. So each circle's counter continues at ``max(saved + SEQ_GAP, now)``: far above anything
published since the backup (one post a second, around the clock, since 1970 would not reach ``now``),
and distinct for every restore of the same backup made at a different second. A chain may skip
numbers; what counts is that no number is used twice (docs/protocol.md, "Chains and equivocation").
The price: should this person later leave or be removed, a node that had not yet received one of their
envelopes from before the jump holds it undecided instead of accepting it (``membership.on_chain`` walks
a departed member's chain seq by seq); losing a call for support to equivocation would be far worse.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..crypto import keystore
from ..envelope import ID_SIZE
from ..errors import BadInput
from ..files import sync_directory, write_synced
from .bundle import CONFIG_FILE, CONTACTS_FILE, TUI_FILE, Bundle

#: How far a restored node's chain counter jumps at least (see the module docstring).
SEQ_GAP: Final = 1 << 20
_SEQ_MAX: Final = 2**62


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What ``restore`` wrote, for the person and for ``--json``."""

    data_dir: Path
    name: str
    node_id: bytes
    circles: tuple[str, ...]            # the circles' names (or the start of their topic)
    files: tuple[str, ...]              # the files written, relative to ``data_dir``
    moved_aside: Path | None            # where the node that was there before now is (``replace``)


def from_data_dir(home: Path, passphrase: bytes | None, now: float) -> Bundle:
    """The bundle of the node whose data directory is ``home``, read from its files (for when no daemon
    runs; a running daemon answers ``backup.bundle`` instead). Circle names are not known here (they
    live in the store's rosters), so the bundle names circles by topic. Raises KeystoreError (no
    identity, locked, wrong passphrase), StoreError (damaged circle state), BadInput (settings files)."""
    from ..transport.state_file import LocalStateFile

    identity = keystore.load(home / keystore.FILENAME, passphrase)
    state = LocalStateFile(home, identity).load()
    return Bundle.from_state(identity, state, int(now)).with_files(home)


def _daemon_pid(data_dir: Path) -> int | None:
    from ..config import LOCK_FILE, Settings
    from ..launch import running_pid

    if not (data_dir / LOCK_FILE).exists():
        return None
    return running_pid(Settings(home=data_dir))


def _jumped(bundle: Bundle, now: float) -> Bundle:
    """The bundle with every circle's chain counter moved past anything published since it was made."""
    from dataclasses import replace

    # the next envelope names the last one the backup knew (or, when it knew none, an id no envelope has):
    # a prev nothing is held at seq - 1 for is never taken for equivocation
    circles = tuple(replace(c, seq=min(max(c.seq + SEQ_GAP, int(now)), _SEQ_MAX),
                            prev=c.prev if len(c.prev) == ID_SIZE else bytes(ID_SIZE))
                    for c in bundle.circles)
    return replace(bundle, circles=circles)


def _write(directory: Path, name: str, data: bytes) -> None:
    write_synced(directory / name, data)


def restore(bundle: Bundle, data_dir: Path, *, replace: bool = False, passphrase: bytes | None = None,
            now: float | None = None, ops: int = keystore.OPS_MODERATE, mem: int = keystore.MEM_MODERATE
            ) -> RestoreReport:
    """Write ``bundle`` as the data directory ``data_dir``: identity (locked with ``passphrase`` when
    given), circle state, settings files. The store is not in a bundle: the node starts with an empty
    one and catches up from its circles.

    Refuses (BadInput, nothing written) when a daemon runs in ``data_dir``, or when ``data_dir`` holds
    an identity and ``replace`` is false; says how to move it aside. With ``replace`` (or when
    ``data_dir`` exists without an identity: a half-set-up directory, a log) the old directory is
    renamed to ``<data_dir>.before-import-<time>`` and reported."""
    from ..transport.state_file import LocalStateFile

    now = time.time() if now is None else now
    data_dir = Path(os.path.abspath(data_dir))
    pid = _daemon_pid(data_dir)
    if pid is not None:
        raise BadInput(f"a meshcare daemon (pid {pid}) runs in {data_dir}; stop it first (`meshcare stop`), "
                       "then import again")
    has_identity = (data_dir / keystore.FILENAME).exists()
    if has_identity and not replace:
        raise BadInput(f"a node with an identity already lives in {data_dir}; meshcare will not overwrite it. "
                       f"Move it aside first (mv {data_dir} {data_dir}.old), import into another directory "
                       "(--home DIR), or pass --replace to keep it as "
                       f"{data_dir.name}.before-import-<time> and import in its place")
    if data_dir.exists() and not data_dir.is_dir():
        raise BadInput(f"{data_dir} is a file, not a directory; give another data directory with --home")
    identity = bundle.identity()
    restored = _jumped(bundle, now)
    parent = data_dir.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = parent / f".{data_dir.name}.import-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o700)
    files = [keystore.FILENAME, "circles.state"]
    try:
        keystore.create(tmp / keystore.FILENAME, identity, passphrase, ops=ops, mem=mem)
        LocalStateFile(tmp, identity).save(restored.to_state())
        for name, text in ((CONFIG_FILE, bundle.config_toml), (TUI_FILE, bundle.tui_toml)):
            if text is not None:
                _write(tmp, name, text.encode("utf-8"))
                files.append(name)
        if bundle.outside_contacts:
            _write(tmp, CONTACTS_FILE, ("\n".join(bundle.outside_contacts) + "\n").encode("utf-8"))
            files.append(CONTACTS_FILE)
        sync_directory(tmp)
        moved = _move_aside(data_dir, now)
        try:
            os.rename(tmp, data_dir)
        except BaseException:
            if moved is not None:
                os.rename(moved, data_dir)        # put the old node back where it was
            raise
        sync_directory(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RestoreReport(data_dir=data_dir, name=identity.name, node_id=bytes(identity.node_id),
                         circles=tuple(c.name or c.topic.hex()[:16] for c in bundle.circles), files=tuple(files),
                         moved_aside=moved)


def _move_aside(data_dir: Path, now: float) -> Path | None:
    """Rename an existing ``data_dir`` out of the way (an empty one is simply removed); where it went."""
    if not data_dir.exists():
        return None
    try:
        data_dir.rmdir()            # empty: nothing to keep
        return None
    except OSError:
        pass
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    aside = data_dir.with_name(f"{data_dir.name}.before-import-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = data_dir.with_name(f"{data_dir.name}.before-import-{stamp}-{n}")
    os.rename(data_dir, aside)
    return aside
