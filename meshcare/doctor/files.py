"""The data dir and the files in it: there, owned by the person the node runs as, and closed to everyone
else (the dir 0700, the key and the state 0600). Pure: judges ``FileFact``s.

Why it matters: identity.key is the person's identity in their circles (sealed with a passphrase or not);
circles.state holds the circles' secrets and keys; the store holds what the circles said. A daemon that
starts tightens a data dir it finds open (service.py), but files copied in by hand (a restore, an rsync
from another machine) keep the mode and owner they came with, and a daemon run as another user cannot
read them at all.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from .facts import FileFact
from .findings import Finding, ok, problem, warning

DATA_DIR: Final = "data-dir"
FILES: Final = "files"
#: The files the node keeps private, in the order they are reported (names in the data dir).
PRIVATE_FILES: Final = ("identity.key", "circles.state", "store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm",
                        "config.toml", "daemon.log", "daemon.lock")
#: Files whose contents are secret (the key, the circles' keys, what circles said): open to others is a
#: problem. The others (settings, the log, the lock) are a warning when others can read them, and a problem
#: when others can write them (``notify_command`` in config.toml runs as the node's user).
SECRET_FILES: Final = ("identity.key", "circles.state", "store.sqlite3")


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def judge_data_dir(home: FileFact, uid: int, user: str) -> list[Finding]:
    """The data dir: missing (no identity yet), not a directory, someone else's, or open to others."""
    where = _q(home.path)
    if not home.exists:
        return [problem(DATA_DIR, f"{home.path} does not exist: this node has no identity here yet.",
                        "run `meshcare` (it asks your name) or `meshcare init --name NAME`; to bring a node from "
                        "another machine, `meshcare backup import FILE` (docs/operations.md); or point --home / "
                        "MESHCARE_HOME at the right data dir.")]
    if not home.is_dir:
        return [problem(DATA_DIR, f"{home.path} is not a directory.",
                        f"move it out of the way (`mv {where} {where}.old`), or give another data dir with --home.")]
    out: list[Finding] = []
    if home.uid != uid:
        out.append(problem(DATA_DIR, f"{home.path} belongs to another user (uid {home.uid}), not to {user} "
                                     f"(uid {uid}), so a node run as {user} cannot use it.",
                           f"run meshcare as the user who owns it, or give it to {user}: "
                           f"`sudo chown -R {shlex.quote(user)}: {where}`."))
    if home.mode & 0o077:
        out.append(problem(DATA_DIR, f"{home.path} is open to other users (mode {home.mode:04o}; it should be 0700).",
                           f"`chmod 700 {where}`."))
    return out or [ok(DATA_DIR, f"{home.path} is {user}'s and closed to others (0700).")]


def judge_files(files: Sequence[FileFact], uid: int, user: str) -> list[Finding]:
    """The private files of the data dir (``PRIVATE_FILES``): identity.key missing, any of them owned by
    another user, open to others, or not readable by its owner. Files that do not exist (yet) are fine,
    but for the key."""
    out: list[Finding] = []
    for f in files:
        where = _q(f.path)
        if not f.exists:
            if f.path.name == "identity.key":
                out.append(problem(FILES, f"{f.path} is missing: this node has no identity.",
                                   "create one with `meshcare init --name NAME` (or `meshcare`), or restore yours "
                                   "with `meshcare backup import FILE`."))
            continue
        if f.uid != uid:
            out.append(problem(FILES, f"{f.path} belongs to another user (uid {f.uid}), not to {user}.",
                               f"`sudo chown {shlex.quote(user)}: {where}`."))
        if f.is_dir:
            out.append(problem(FILES, f"{f.path} is a directory where meshcare keeps a file.",
                               f"move it out of the way: `mv {where} {where}.old`."))
        elif f.mode & 0o077 and (f.path.name.startswith(SECRET_FILES) or f.mode & 0o022):
            out.append(problem(FILES, f"{f.path} can be read or written by other users (mode {f.mode:04o}; it "
                                      "should be 0600).", f"`chmod 600 {where}`."))
        elif f.mode & 0o077:
            out.append(warning(FILES, f"{f.path} can be read by other users (mode {f.mode:04o}; it should be "
                                      "0600).", f"`chmod 600 {where}`."))
        elif not f.mode & 0o400 or not f.mode & 0o200:
            out.append(problem(FILES, f"{f.path} cannot be read or written even by its owner (mode {f.mode:04o}).",
                               f"`chmod 600 {where}`."))
    if out:
        return out
    names = ", ".join(f.path.name for f in files if f.exists)
    return [ok(FILES, f"{names}: {user}'s, and only {user} can read them (0600).")]
