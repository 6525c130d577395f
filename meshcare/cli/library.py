"""The circle's library at the command line: ``library CIRCLE [TITLE]``, ``library edit``, ``library remove``.

Short shared texts (house agreements, how we respond, words we use, ...) that facilitators write and
every member reads; each edit is a new version and the earlier ones stay listed. Each command is a thin
client of one ``library.*`` op (``cli/common.py``). ``library edit`` takes the text from ``--text``,
``--file`` or, in a terminal, $EDITOR (as ``plan edit`` does); ``--starter`` adds meshcare's starter
texts for the facilitators to adapt. ``library edit|remove`` are dispatched by ``calls.rewrite_argv``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.results_requests import LibraryNote
from ..control.names import NOT_FOUND
from ..errors import BadInput, RequestFailed
from . import reach
from .common import EXIT_OK, EXIT_USAGE, add_command, ask_daemon, emit, named, short, table, when


def note_text(n: LibraryNote, *, versions: bool = False) -> str:
    """One text as ``library CIRCLE TITLE`` shows it (``versions``: every earlier version after it)."""
    changed = f", changed {n.edits} time{'s' if n.edits != 1 else ''}" if n.edits else ""
    lines = [n.title, "=" * min(len(n.title), 60), n.text or "(empty)", "",
             f"({n.circle_name}'s library; by {named(n.author, n.names)}, {when(n.created)}{changed})"]
    if versions and len(n.versions) > 1:
        lines.append("")
        lines.append("Earlier versions, newest first:")
        for v in reversed(n.versions[:-1]):
            lines.append(f"--- {when(v.created)} by {named(v.author, n.names)}"
                         + (f" (title: {v.title})" if v.title != n.title else ""))
            lines += ["  " + line for line in v.text.splitlines()]
    return "\n".join(lines)


def _edit_in_editor(settings: config.Settings, initial: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=settings.home, prefix="library-") as folder:   # 0700, not in /tmp
        path = Path(folder) / "library-text.txt"
        path.write_text(initial, encoding="utf-8")
        try:
            code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        except OSError:
            raise BadInput(f"cannot start the editor {editor!r}; set $EDITOR, or use --text or --file") from None
        if code != 0:
            raise BadInput(f"the editor stopped with status {code}; the library is unchanged")
        return path.read_text(encoding="utf-8")


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None


def cmd_library(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import LibraryList, LibraryShow

    if args.title:
        answer = ask_daemon(settings, LibraryShow(circle=args.circle, note=args.title))
        emit(args, answer.data, note_text(answer.result.note, versions=args.versions))
        return EXIT_OK
    listed = ask_daemon(settings, LibraryList(circle=args.circle))
    r = listed.result
    rows = [(n.title, named(n.author, n.names), when(n.created), str(len(n.versions)), short(n.id)) for n in r.notes]
    text = (table([("TITLE", "BY", "CHANGED", "VERSIONS", "ID"), *rows]) if rows
            else f"The library of {r.circle_name} is empty.")
    text += f"\nRead one with: meshcare library {shlex.quote(r.circle_name)} TITLE" if rows else ""
    if r.can_edit and r.starters:
        text += (f"\nStarter texts you can add and adapt: {'; '.join(r.starters)} "
                 f"(meshcare library edit {shlex.quote(r.circle_name)} --starter)")
    if args.versions and not args.json:
        text += "\n\n" + "\n\n".join(note_text(n, versions=True) for n in r.notes)
    emit(args, listed.data, text)
    return EXIT_OK


def cmd_library_edit(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import LibraryEdit, LibraryShow, LibraryStarters

    if args.starter:
        if args.text is not None or args.file is not None:
            print("meshcare library edit: --starter writes meshcare's own text; leave out --text and --file",
                  file=sys.stderr)
            return EXIT_USAGE
        starters = ask_daemon(settings, LibraryStarters(circle=args.circle, titles=(args.title,) if args.title else ()))
        added = starters.result.added
        emit(args, starters.data, ("Added: " + "; ".join(added) + ". Change them to fit your circle with "
                                 "`meshcare library edit CIRCLE TITLE`." if added else
                                 "Every starter text is in the library already.")
             + reach.posted_note(starters.result.linked))
        return EXIT_OK
    if not args.title:
        print("meshcare library edit: name the text: meshcare library edit CIRCLE TITLE (or --starter)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.text is not None:
        text = args.text
    elif args.file is not None:
        text = _read_file(args.file)
    elif sys.stdin.isatty() and sys.stdout.isatty():
        try:
            current = ask_daemon(settings, LibraryShow(circle=args.circle, note=args.note or args.title)).result.note.text
        except RequestFailed as exc:
            if exc.kind != NOT_FOUND:
                raise
            current = ""                 # a new text starts empty
        text = _edit_in_editor(settings, current)
    else:
        print("meshcare library edit: give the text with --text or --file, or run it in a terminal to open "
              "your $EDITOR", file=sys.stderr)
        return EXIT_USAGE
    answer = ask_daemon(settings, LibraryEdit(circle=args.circle, title=args.title, text=text.rstrip("\n"),
                                              note=args.note))
    n = answer.result.note
    what = ("Added" if answer.result.new else "Changed" if answer.result.changed else "No change to")
    emit(args, answer.data, f"{what} \"{n.title}\" in the library of {n.circle_name}"
                            + (f" (version {len(n.versions)}; earlier ones stay listed)" if answer.result.changed
                               and not answer.result.new else "") + "."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_library_remove(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import LibraryRemove

    answer = ask_daemon(settings, LibraryRemove(circle=args.circle, note=args.title))
    emit(args, answer.data, f"Removed \"{answer.result.title}\" from the library; members' nodes forget it."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``library``, ``library edit`` and ``library remove`` to the top-level subparsers ``sub``."""
    p = add_command(sub, "library", cmd_library, "read your circle's library of short shared texts",
                    "meshcare library 'Elm St'\n  meshcare library 'Elm St' 'House agreements' --versions",
                    more="Facilitators write it with `meshcare library edit CIRCLE TITLE` and `meshcare library "
                         "remove CIRCLE TITLE` (a circle literally named \"edit\" or \"remove\" is named by the "
                         "start of its id).")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("title", metavar="TITLE", nargs="?", help="show this text (its title or the start of its id)")
    p.add_argument("--versions", action="store_true", help="earlier versions too")

    p = add_command(sub, "library-edit", cmd_library_edit, "write or change a text of the circle's library "
                                                             "(facilitators)",
                    "meshcare library edit 'Elm St' 'House agreements' --file agreements.txt\n"
                    "  meshcare library edit 'Elm St' --starter",
                    prog="library edit", listed=False,
                    more="The text comes from --text, --file, or your $EDITOR when run in a terminal. A text "
                         "with that title is changed (a new version; the earlier ones stay listed), else a new "
                         "one is added. --starter adds meshcare's starter texts (or the one TITLE names) for you "
                         "to adapt.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("title", metavar="TITLE", nargs="?", help=f"the text's title (at most {vocab.MAX_TITLE} characters)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--text", metavar="TEXT", help="the text itself")
    source.add_argument("--file", type=Path, metavar="FILE", help="read the text from this file (UTF-8)")
    p.add_argument("--starter", action="store_true", help="add meshcare's starter texts that are not there yet")
    p.add_argument("--id", dest="note", metavar="NOTE",
                   help="change this text (the start of its id), e.g. to give it a new title")

    p = add_command(sub, "library-remove", cmd_library_remove, "remove a text from the circle's library "
                                                                 "(facilitators)",
                    "meshcare library remove 'Elm St' 'House agreements'", prog="library remove", listed=False)
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("title", metavar="TITLE", help="the text's title or the start of its id")
