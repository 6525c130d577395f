"""What the command modules (``circles``, ``calls``) share: asking the daemon, showing values, reading arguments,
making parsers.

Asking: ``ask_daemon(settings, request)`` sends one typed request of ``meshcare.control`` and returns an
``Answer``: the typed result for the human output, and the daemon's data as it came for ``--json`` (keys
a newer daemon adds are printed too). The commands know the daemon only through ``meshcare.control``
and ``meshcare.vocab``, as the TUI does; nothing here imports the core.

Showing: ``when`` (a unix time in local time), ``short`` (an id's first 8 characters), ``shorten`` (one line of
at most N characters), ``named`` (a member by name, "you" or "nobody"). Reading: argparse types that raise
``ArgumentTypeError`` so bad usage exits 2. Making: ``add_command`` adds one command with ``--json``, a description
and an example, wrapped by ``_Formatter``.

Every command is a thin client of one (sometimes two) control operations of the running daemon
(``meshcare/ops/``) through the typed requests of ``meshcare.control`` (docs/control.md; the command
modules import nothing of the core): it turns flags into a request, asks, and prints either words for
people from the typed result or, with ``--json``, the daemon's result dict as it is (keys may be added,
never renamed: docs/cli.md is the contract). argparse checks what it can (choices, formats: bad usage
exits 2); the request checks its arguments' types and bounds before it is sent, and the daemon resolves
names and id prefixes and checks the rest: a bad argument or a refusal exits 1 with a message in plain
words.
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import config
from ..errors import BadInput, RemoteProtocolError
from ..text import for_terminal

if TYPE_CHECKING:  # the control API's records load with the command that sends one (`meshcare --help` stays fast)
    from ..control.request_base import Request
    from ..control.result_base import Result

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
#: The result type of a request (request_base.R, declared here so this module loads without the records).
R = TypeVar("R", bound="Result")

Handler = Callable[[argparse.Namespace, config.Settings], int]


# --- showing values -------------------------------------------------------------------------------

def when(ts: Any, now: float | None = None) -> str:
    """A unix time in local time: ``14:05`` today, ``Tue 14:05`` within a week, else with the date; ``?``
    for a time no calendar holds (a member may post an availability ``until`` of 2**62)."""
    if not isinstance(ts, (int, float)):
        return "-"
    try:
        moment = datetime.fromtimestamp(ts)
    except (OverflowError, OSError, ValueError):
        return "?"
    days = abs((moment.date() - datetime.fromtimestamp(time.time() if now is None else now).date()).days)
    return moment.strftime("%H:%M" if days == 0 else "%a %H:%M" if days < 7 else "%a %d %b %Y %H:%M")


def short(ref: Any) -> str:
    return str(ref)[:8] if ref else "-"


def shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def named(who: Any, names: Mapping[str, Any], me: str | None = None) -> str:
    if who is None:
        return "nobody"
    if me is not None and who == me:
        return "you"
    return str(names.get(who) or short(who))


# --- argument types (ValueError / ArgumentTypeError -> exit 2) ------------------------------------

def word(text: str) -> str:
    """Accept ``come-over`` for ``come_over`` (and any case); argparse then checks ``choices``."""
    return text.strip().lower().replace("-", "_")


def datetime_arg(text: str) -> int:
    try:
        return int(datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").timestamp())
    except ValueError:
        raise argparse.ArgumentTypeError(f"write the time as \"YYYY-MM-DD HH:MM\" (not {text!r})") from None


def number_in(low: float, high: float, kind: Callable[[str], float] = float) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value:g} is outside {low:g}..{high:g}")
        return value
    return convert


# --- making parsers -------------------------------------------------------------------------------

class _Formatter(argparse.HelpFormatter):
    """Wraps each paragraph; keeps paragraphs with indented lines (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for para in textwrap.dedent(text).strip().split("\n\n"):
            if any(line.startswith("  ") for line in para.splitlines()):
                out.append("\n".join(indent + line for line in para.splitlines()))
            else:
                out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent,
                                         subsequent_indent=indent))
        return "\n\n".join(out)


def add_command(sub: Any, name: str, handler: Handler, summary: str, example: str, *, prog: str | None = None,
         more: str = "", listed: bool = True, json_help: str | None = None) -> argparse.ArgumentParser:
    """One command with ``--json`` (``json_help``: what it prints, when not one object); ``prog`` is its
    name as typed (``circle create``)."""
    prog = prog or name
    extra: dict[str, Any] = {"help": summary} if listed else {}
    p: argparse.ArgumentParser = sub.add_parser(
        name, prog=f"meshcare {prog}", description=summary + ("\n\n" + more if more else ""),
        epilog="example:\n" + "\n".join("  " + line.strip() for line in example.splitlines()),
        formatter_class=_Formatter, **extra)
    p.set_defaults(handler=handler, command=prog)
    p.add_argument("--json", action="store_true", help=json_help or "print one JSON object for scripts (docs/cli.md)")
    return p

def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print a result: JSON (ASCII-escaped, so never a raw control character) or the human text, every
    control or bidi character in it escaped (``text.for_terminal``): the text quotes other members, and
    nothing they wrote may retitle, rewrite or reorder what the reader's terminal shows."""
    if args.json:
        print(json.dumps(data, sort_keys=True, ensure_ascii=True))
    else:
        print(for_terminal(text))


@dataclass(frozen=True)
class Answer(Generic[R]):
    """The daemon's answer to one request: ``result`` typed, ``data`` as it came, JSON-ready (bytes as hex),
    for ``--json`` (which may add keys to it, e.g. ``qr``)."""

    result: R
    data: dict[str, Any]


def ask_daemon(settings: config.Settings, request: Request[R]) -> Answer[R]:
    """Send ``request`` to this data directory's daemon and read its answer.

    The request is checked first (``from_data`` of its own data), so a bad argument is told in the API's
    words before anything is sent. Raises BadInput (a bad argument), DaemonNotRunning, DaemonUnavailable,
    RequestFailed (the daemon refused), RemoteProtocolError (its answer does not fit this version).
    """
    from ..client import ControlClient  # only the commands that talk to the daemon need sockets

    args = type(request).from_data(request.to_data()).to_data()
    with ControlClient.connect(settings.control_path) as client:
        data: dict[str, Any] = jsonable(client.request(request.OP, **args))
    try:
        return Answer(request.read_result(data), data)
    except BadInput as exc:
        raise RemoteProtocolError(f"the daemon's answer to {request.OP} does not fit this meshcare ({exc}); "
                                  "run the same meshcare version for the daemon and the command line") from None


def jsonable(value: Any) -> Any:
    """The daemon's result ready for json.dumps: bytes become hex (ids are hex in every JSON we print)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns two spaces apart (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
