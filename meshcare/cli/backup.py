"""``meshcare backup export FILE`` and ``meshcare backup import FILE``: the person's way back after a lost device.

Export takes the bundle from the running daemon (``backup.bundle``: it holds the unlocked identity)
or, when none runs, from the data directory's files (unlocking the identity with its passphrase when
it has one), adds the person's settings files, and writes it encrypted with a passphrase asked twice on
the terminal (or read from ``--passphrase-file``): 0600, atomically, never over an existing file
unless ``--force``. The passphrase never reaches the daemon.

Import opens the file, checks everything in it, and writes a new data directory in one step
(``meshcare.backup.datadir.restore``): on any error nothing is written. The core is imported inside
the commands only (``meshcare --help`` stays fast).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config
from ..errors import BadInput
from .common import EXIT_OK, add_command, emit

if TYPE_CHECKING:
    from ..backup.bundle import Bundle

#: Fewer characters than this and an offline guesser gets through Argon2id in reasonable time.
MIN_PASSPHRASE = 8
#: The largest file import reads (a bundle is at most 640 KiB; the file adds a few hundred bytes).
MAX_FILE = 16 * 1024 * 1024 + 4096
NOT_INCLUDED = ("message history (calls, check-ins, threads): it comes back from your circles when the node "
                "catches up", "the circles' rosters and later keys: they come back the same way",
                "this device's daemon log and store")


def _fingerprint(node_id: bytes) -> str:
    from ..crypto.keys import fingerprint

    return fingerprint(node_id)


# --- passphrases ------------------------------------------------------------------------------------


def _from_file(path: Path) -> bytes:
    from ..crypto.keystore import read_passphrase_file

    return read_passphrase_file(path)


def _on_terminal(prompt: str) -> bytes:
    import getpass

    if not sys.stdin.isatty():
        raise BadInput("there is no terminal to ask for the backup's passphrase on; give it with --passphrase-file F "
                       "(a file of yours, mode 0600, the passphrase on its first line)")
    return getpass.getpass(prompt).encode("utf-8")


def _new_passphrase(args: argparse.Namespace) -> bytes:
    if args.passphrase_file is not None:
        passphrase = _from_file(args.passphrase_file)
    else:
        passphrase = _on_terminal("Passphrase for the backup: ")
    if len(passphrase.decode("utf-8", "replace")) < MIN_PASSPHRASE:
        raise BadInput(f"the passphrase is shorter than {MIN_PASSPHRASE} characters; a backup holds your identity, "
                       "so choose a longer one (a few words you will remember) and write it down somewhere safe")
    if args.passphrase_file is None and _on_terminal("The same passphrase again: ") != passphrase:
        raise BadInput("the two passphrases differ; nothing was written: run the command again")
    return passphrase


def _identity_passphrase(settings: config.Settings) -> bytes | None:
    """The passphrase of this node's identity, when it has one (for export without a daemon)."""
    from ..crypto import keystore

    _, _, protected = keystore.read_public(settings.keystore_path)
    if not protected:
        return None
    path = settings.passphrase_file or (Path(os.environ["MESHCARE_PASSPHRASE_FILE"])
                                        if os.environ.get("MESHCARE_PASSPHRASE_FILE") else None)
    if path is not None:
        return _from_file(path)
    if not sys.stdin.isatty():
        raise BadInput("this node's identity is locked with a passphrase and no daemon runs; start the daemon "
                       "(`meshcare start`) or set MESHCARE_PASSPHRASE_FILE")
    import getpass

    return getpass.getpass("Passphrase of this node's identity: ").encode("utf-8")


# --- export -----------------------------------------------------------------------------------------


def _current_bundle(settings: config.Settings) -> tuple[Bundle, str]:
    """This node's bundle and where it came from (``daemon`` or ``data-dir``)."""
    import base64

    from ..backup.bundle import Bundle, from_data_dir
    from ..control.requests_backup import BackupBundle
    from ..errors import DaemonNotRunning
    from .common import ask_daemon

    try:
        answer = ask_daemon(settings, BackupBundle())
    except DaemonNotRunning:
        return from_data_dir(settings.home, _identity_passphrase(settings), time.time()), "data-dir"
    try:
        raw = base64.b64decode(answer.result.bundle, validate=True)
    except ValueError:
        raise BadInput("the daemon's bundle is not base64; run the same meshcare version for the daemon and the "
                       "command line") from None
    return Bundle.from_bytes(raw).with_files(settings.home), "daemon"


def _write_new(path: Path, data: bytes, force: bool) -> None:
    """``data`` as ``path``, mode 0600, all or nothing; an existing file only with ``force``."""
    from ..files import sync_directory, write_synced

    directory = path.parent
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        write_synced(tmp, data)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise BadInput(f"{path} already exists; meshcare will not overwrite it (give another file, or "
                               "--force to replace it)") from None
            os.unlink(tmp)
        sync_directory(directory)
    finally:
        tmp.unlink(missing_ok=True)


def cmd_export(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..backup import fileformat

    path: Path = args.file
    if path.exists() and not args.force:
        raise BadInput(f"{path} already exists; meshcare will not overwrite it (give another file, or --force to "
                       "replace it)")
    if path.is_dir():
        raise BadInput(f"{path} is a directory; give a file name, e.g. {path / 'meshcare.backup'}")
    if not path.parent.is_dir():
        raise BadInput(f"there is no directory {path.parent} to write the backup in")
    bundle, source = _current_bundle(settings)
    sealed = fileformat.seal_with_passphrase(bundle.to_bytes(), _new_passphrase(args))
    _write_new(path, sealed, args.force)
    summary = bundle.summary()
    data: dict[str, Any] = {**summary, "file": str(path), "bytes": len(sealed), "source": source,
                            "fingerprint": _fingerprint(bytes.fromhex(summary["node_id"])),
                            "not_included": list(NOT_INCLUDED)}
    circles = ", ".join(summary["circles"]) or "none"
    lines = [f"Wrote the backup of {bundle.name} to {path} ({len(sealed)} bytes, encrypted with your passphrase).",
             f"It holds: your identity (fingerprint {data['fingerprint']}), your circles ({circles}) with their "
             f"keys, your support plan{'' if summary['plan'] else ' (none yet)'}, your lists of who not to involve"
             + (f", and {', '.join(summary['settings'])}" if summary["settings"] else "") + ".",
             "It does not hold your message history: that comes back from your circles when a restored node "
             "catches up.",
             "Keep it off this device (a USB stick, another computer), and the passphrase apart from it: without "
             "the passphrase nobody can open it, you included.",
             "Make a new one after you join or leave a circle."]
    emit(args, data, "\n".join(lines))
    return EXIT_OK


# --- import -----------------------------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        raise BadInput(f"there is no file {path}") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a directory, not a backup file") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_FILE:
        raise BadInput(f"{path} is larger than any meshcare backup: not a backup file")
    return data


def cmd_import(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..backup import fileformat
    from ..backup.bundle import Bundle, restore

    data = _read_file(args.file)
    kind = fileformat.kdf_of(data)     # not a backup, cut short, unknown version: said before any passphrase
    if kind != fileformat.KDF_ARGON2ID:
        raise BadInput(f"{args.file} is opened by social recovery, not a passphrase (`meshcare recovery`)")
    passphrase = _from_file(args.passphrase_file) if args.passphrase_file else \
        _on_terminal("Passphrase of the backup: ")
    bundle = Bundle.from_bytes(fileformat.open_file(data, passphrase=passphrase))
    lock = _from_file(args.identity_passphrase_file) if args.identity_passphrase_file else None
    report = restore(bundle, settings.home, replace=args.replace, passphrase=lock)
    node_id = report.node_id
    out: dict[str, Any] = {"home": str(report.data_dir), "name": report.name, "node_id": node_id.hex(),
                           "fingerprint": _fingerprint(node_id), "circles": list(report.circles),
                           "files": list(report.files), "created": bundle.created,
                           "moved_aside": str(report.moved_aside) if report.moved_aside else None,
                           "passphrase_protected": lock is not None}
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(bundle.created))
    lines = [f"Restored {report.name} (fingerprint {out['fingerprint']}) from the backup of {made} into "
             f"{report.data_dir}.",
             f"Circles: {', '.join(report.circles) or 'none'}."]
    if report.moved_aside:
        lines.append(f"The node that was there before is kept in {report.moved_aside}.")
    lines += ["Start the node (`meshcare start`, or `meshcare daemon --peer HOST:PORT` to reach a member directly): "
              "it rejoins your circles and catches up on what they hold as soon as it links to one of their members.",
              "If your old device may be in someone else's hands, ask a facilitator to remove that identity and "
              "join again with a new one (docs/backup-and-recovery.md)."]
    emit(args, out, "\n".join(lines))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``backup`` command group (``export``, ``import``) to the top-level subparsers ``sub``."""
    group = sub.add_parser("backup", help="save your identity and circles to an encrypted file, or restore them "
                                          "(backup --help lists them)",
                           description="Save your identity and circles to an encrypted file, or restore them on a "
                                       "new device.", prog="meshcare backup")
    group_sub = group.add_subparsers(dest="backup_command", metavar="SUBCOMMAND", required=True)
    p = add_command(group_sub, "export", cmd_export, "write an encrypted backup of this node: identity, circles and "
                    "their keys, support plan, settings", "meshcare backup export /media/usb/ann.meshcare-backup",
                    prog="backup export",
                    more="The passphrase is asked twice on the terminal (or read from the first line of "
                         "--passphrase-file F, a file of mode 0600). Message history is not in the backup: it comes "
                         "back from your circles. Keep the file off this device.")
    p.add_argument("file", metavar="FILE", type=Path, help="where to write the backup (a new file)")
    p.add_argument("--passphrase-file", type=Path, metavar="F", help="read the passphrase from the first line of F")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p = add_command(group_sub, "import", cmd_import, "restore a backup into this data directory (a new device)",
                    "meshcare --home ~/.local/share/meshcare backup import /media/usb/ann.meshcare-backup",
                    prog="backup import",
                    more="Refuses a data directory that already holds an identity (move it aside, or --replace "
                         "keeps it as DIR.before-import-TIME). Nothing is written on any error. Then start the "
                         "node: it rejoins your circles and catches up.")
    p.add_argument("file", metavar="FILE", type=Path, help="the backup file")
    p.add_argument("--passphrase-file", type=Path, metavar="F", help="read the backup's passphrase from the first "
                                                                     "line of F")
    p.add_argument("--replace", action="store_true", help="replace a node already in the data directory, keeping "
                                                          "it as DIR.before-import-TIME")
    p.add_argument("--identity-passphrase-file", type=Path, metavar="F",
                   help="lock the restored identity with the passphrase on the first line of F (as `meshcare init "
                        "--passphrase-file`); without it the identity is stored unlocked, mode 0600")
