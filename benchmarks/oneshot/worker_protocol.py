"""The worker protocol of bench_oneshot (WORKERS.md): one JSON object per line, both ways. Pure.

A worker is the application side of one node (meshcare: a control client of its daemon; LXMF: the
Reticulum instance and LXMF router in-process). The driver writes commands on the worker's stdin and
reads what the worker says on its stdout. This module is the one place either side builds or checks
a line, so the meshcare worker and the driver cannot disagree about a key. (The LXMF worker runs in
its own virtual environment and writes the same lines itself.)

Worker -> driver: ``ready`` (with ``address``), ``sent``, ``delivered``, ``acked`` (with ``n`` and the
monotonic time ``t``), ``stats``, ``error``. A worker may add keys; the meshcare worker adds ``id``
(the envelope or call id) to ``sent`` and ``delivered``, and writes ``"delivered": null`` when it
cannot read the number from what arrived (a plain topic's ``envelope`` event carries no body): the
driver then matches the id with the sender's ``sent`` line (``Tracker`` in ``runs.py``).

Driver -> worker: ``send`` (``n``, ``size``, ``to``), ``stats``, ``quit``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Final

#: Digits of the message number at the start of every body.
NUMBER_DIGITS: Final = 8
#: Kinds of line a worker writes, each named by its first key.
WORKER_KINDS: Final = ("ready", "sent", "delivered", "acked", "stats", "error")
COMMANDS: Final = ("send", "stats", "quit")
STATS_KEYS: Final = ("cpu_s", "rss_kib", "wire_in", "wire_out")


class ProtocolError(ValueError):
    """A line that is not the protocol; the message quotes it."""


def now() -> float:
    """The protocol's clock: CLOCK_MONOTONIC in seconds, the same in every process on one machine."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def encode(message: dict[str, Any]) -> str:
    """One line (with its newline) for a message."""
    return json.dumps(message, separators=(",", ":")) + "\n"


def body(n: int, size: int) -> str:
    """The text of message ``n``: its 8-digit number, then padding up to ``size`` characters (ASCII,
    so ``size`` bytes too). Raises ProtocolError when ``n`` does not fit or ``size`` is too small."""
    if not 0 <= n < 10 ** NUMBER_DIGITS:
        raise ProtocolError(f"message number {n} does not fit in {NUMBER_DIGITS} digits")
    if size < NUMBER_DIGITS:
        raise ProtocolError(f"a body of {size} bytes cannot hold the {NUMBER_DIGITS}-digit number")
    return f"{n:0{NUMBER_DIGITS}d}" + "x" * (size - NUMBER_DIGITS)


def number_of(text: str) -> int | None:
    """The message number a body starts with, or None when it does not start with 8 digits."""
    head = text[:NUMBER_DIGITS]
    return int(head) if len(head) == NUMBER_DIGITS and head.isascii() and head.isdigit() else None


def _object(line: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(f"not JSON: {_quote(line)}") from None
    if not isinstance(data, dict) or not data:
        raise ProtocolError(f"not a JSON object with keys: {_quote(line)}")
    return data


def _quote(line: str | bytes) -> str:
    text = line if isinstance(line, str) else line.decode("utf-8", "replace")
    text = text.strip()
    return repr(text if len(text) <= 200 else text[:197] + "...")


def _number(data: dict[str, Any], key: str, line: str | bytes, *, nullable: bool = False) -> int | None:
    value = data.get(key)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{key!r} must be a message number: {_quote(line)}")
    return value


def _time(data: dict[str, Any], line: str | bytes) -> float:
    value = data.get("t")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ProtocolError(f"'t' must be a monotonic time in seconds: {_quote(line)}")
    return float(value)


@dataclass(frozen=True, slots=True)
class WorkerLine:
    """One line a worker wrote, checked. ``kind`` is one of WORKER_KINDS; the other fields are set
    for the kinds that have them (``n`` is None for a ``delivered`` known only by ``id``)."""

    kind: str
    n: int | None = None
    t: float | None = None
    id: str | None = None
    address: str | None = None
    stats: dict[str, float | int | None] = field(default_factory=dict)
    error: str | None = None


def parse_worker_line(line: str | bytes) -> WorkerLine:
    """Check one line from a worker. Raises ProtocolError naming what is wrong."""
    data = _object(line)
    kind = next((k for k in WORKER_KINDS if k in data), None)
    if kind is None:
        raise ProtocolError(f"no known key ({', '.join(WORKER_KINDS)}): {_quote(line)}")
    ident = data.get("id")
    if ident is not None and not isinstance(ident, str):
        raise ProtocolError(f"'id' must be text: {_quote(line)}")
    if kind == "ready":
        address = data.get("address", "")
        if data["ready"] is not True or not isinstance(address, str):
            raise ProtocolError(f"ready must be true with a text address: {_quote(line)}")
        return WorkerLine("ready", address=address)
    if kind in ("sent", "acked"):
        return WorkerLine(kind, n=_number(data, kind, line), t=_time(data, line), id=ident)
    if kind == "delivered":
        n = _number(data, kind, line, nullable=True)
        if n is None and ident is None:
            raise ProtocolError(f"delivered needs a message number or an id: {_quote(line)}")
        return WorkerLine(kind, n=n, t=_time(data, line), id=ident)
    if kind == "stats":
        stats = data["stats"]
        if not isinstance(stats, dict):
            raise ProtocolError(f"stats must be an object: {_quote(line)}")
        out: dict[str, float | int | None] = {}
        for key in STATS_KEYS:
            value = stats.get(key)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                raise ProtocolError(f"stats {key!r} must be a number or null: {_quote(line)}")
            out[key] = value
        return WorkerLine("stats", stats=out)
    message = data["error"]
    return WorkerLine("error", error=message if isinstance(message, str) else json.dumps(message))


@dataclass(frozen=True, slots=True)
class Command:
    """One command to a worker, checked: ``send`` has ``n``, ``size`` and ``to``."""

    cmd: str
    n: int = 0
    size: int = 0
    to: str = ""


def parse_command(line: str | bytes) -> Command:
    """Check one command line (the worker's side). Raises ProtocolError naming what is wrong."""
    data = _object(line)
    cmd = data.get("cmd")
    if cmd not in COMMANDS:
        raise ProtocolError(f"'cmd' must be one of {', '.join(COMMANDS)}: {_quote(line)}")
    if cmd != "send":
        return Command(cmd)
    n = _number(data, "n", line)
    size = data.get("size")
    to = data.get("to", "")
    if not isinstance(size, int) or isinstance(size, bool) or not NUMBER_DIGITS <= size <= 1_000_000:
        raise ProtocolError(f"'size' must be {NUMBER_DIGITS} to 1000000 bytes: {_quote(line)}")
    if not isinstance(to, str):
        raise ProtocolError(f"'to' must be text: {_quote(line)}")
    return Command("send", n=n or 0, size=size, to=to)


def send_command(n: int, size: int, to: str) -> dict[str, Any]:
    """The ``send`` command for message ``n``."""
    return {"cmd": "send", "n": n, "size": size, "to": to}
