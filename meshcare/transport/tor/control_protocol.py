"""tor's control protocol, bytes in and replies out: no sockets, no trio (tor's control-spec.txt).

Theory of operation. The controller sends one line per command (``KEYWORD args CRLF``); tor answers each
command with one *reply* (in order), and, once asked with SETEVENTS, sends asynchronous *events* between
replies. Both have the same shape: lines ``NNN-text`` (more follow), ``NNN+text`` (a data block follows,
ended by a line holding one ``.``; lines starting with ``.`` are dot-escaped) and a last line ``NNN text``.
Status 2xx is success, 4xx/5xx an error, 650 an event. ``ReplyParser.receive_data`` takes bytes as they
come (any chunking); ``next_reply`` gives whole replies. Every line and every reply is bounded, so a
confused or hostile peer on the control port cannot make meshcare buffer without end.

Commands are built by ``command``, which refuses anything that could end the line early (CR, LF, NUL or
another control character: a config value must never smuggle a second command), and ``quote`` writes a
QuotedString. The parsers below take the few replies meshcare needs: PROTOCOLINFO, AUTHCHALLENGE (the
SAFECOOKIE HMACs are here too), GETINFO, ``status/bootstrap-phase``, ADD_ONION and the HS_DESC event.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from ...errors import TorControlError

#: The longest line (without its CRLF) and the most lines and bytes of one reply meshcare accepts. tor's
#: answers to what meshcare asks are a few hundred bytes; far more means something else is on that port.
MAX_LINE = 16 * 1024
MAX_LINES = 1024
MAX_REPLY = 256 * 1024

EVENT_STATUS = 650
SAFECOOKIE_SERVER_KEY = b"Tor safe cookie authentication server-to-controller hash"
SAFECOOKIE_CLIENT_KEY = b"Tor safe cookie authentication controller-to-server hash"
COOKIE_LENGTH = 32
NONCE_LENGTH = 32

_STATUS = re.compile(rb"[0-9]{3}")
_KEYWORD = re.compile(r"[A-Z][A-Z0-9_]*")
_SERVICE_ID = re.compile(r"[a-z2-7]{56}")


@dataclass(frozen=True, slots=True)
class ReplyLine:
    """One line of a reply: its status, its separator ("-", "+" or " "), its text, and for "+" its data."""

    status: int
    separator: str
    text: str
    data: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One whole reply (or event): its lines in order; ``status`` is the last line's."""

    lines: tuple[ReplyLine, ...]

    @property
    def status(self) -> int:
        return self.lines[-1].status

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_event(self) -> bool:
        return self.status == EVENT_STATUS

    @property
    def message(self) -> str:
        """The last line's text: "OK", or tor's own words for an error."""
        return self.lines[-1].text

    def raise_for_status(self, what: str) -> Reply:
        """This reply when it is a success; else ``TorControlError`` naming the command and tor's words."""
        if not self.ok:
            raise TorControlError(f"tor refused {what}: {self.status} {self.message}")
        return self


class ReplyParser:
    """Replies out of a byte stream (sans-I/O): ``receive_data`` then ``next_reply`` until None.

    Raises ``TorControlError`` for a malformed line (no status, a status that changes inside a reply, a
    bad separator) or one past the bounds; the stream cannot be trusted after that.
    """

    def __init__(self, *, max_line: int = MAX_LINE, max_lines: int = MAX_LINES, max_reply: int = MAX_REPLY) -> None:
        self._buffer = bytearray()
        self._max_line = max_line
        self._max_lines = max_lines
        self._max_reply = max_reply
        self._lines: list[ReplyLine] = []
        self._size = 0
        self._data_head: tuple[int, str] | None = None      # inside a "+" data block: its status and text
        self._data: list[str] = []

    def receive_data(self, data: bytes | bytearray) -> None:
        """Take the next bytes from tor, in whatever pieces they arrived."""
        self._buffer += data
        if len(self._buffer) > self._max_line + 2 and b"\n" not in self._buffer:
            raise TorControlError(f"tor's control port sent a line longer than {self._max_line} bytes")

    def next_reply(self) -> Reply | None:
        """The next whole reply, or None until more bytes have come."""
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self._max_line + 2:
                    raise TorControlError(f"tor's control port sent a line longer than {self._max_line} bytes")
                return None
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if len(raw) > self._max_line:
                raise TorControlError(f"tor's control port sent a line longer than {self._max_line} bytes")
            reply = self._take_line(raw)
            if reply is not None:
                return reply

    def _count(self, size: int) -> None:
        self._size += size
        if self._size > self._max_reply:
            raise TorControlError(f"tor's control port sent a reply longer than {self._max_reply} bytes")

    def _take_line(self, raw: bytes) -> Reply | None:
        self._count(len(raw) + 2)
        if self._data_head is not None:
            if raw == b".":
                status, text = self._data_head
                self._data_head = None
                self._append(ReplyLine(status, "+", text, "\n".join(self._data)))
                self._data = []
                return None
            self._data.append(_text(raw[1:] if raw.startswith(b".") else raw))
            if len(self._data) > self._max_lines:
                raise TorControlError(f"tor's control port sent a reply of more than {self._max_lines} lines")
            return None
        if len(raw) < 4 or not _STATUS.fullmatch(raw[:3]) or raw[3:4] not in (b"-", b"+", b" "):
            raise TorControlError(f"tor's control port sent a malformed line: {_text(raw[:80])!r}")
        status, separator, text = int(raw[:3]), raw[3:4].decode("ascii"), _text(raw[4:])
        if self._lines and self._lines[0].status != status:
            raise TorControlError(f"tor's control port changed status inside a reply ({self._lines[0].status} "
                                  f"then {status})")
        if separator == "+":
            self._data_head = (status, text)
            return None
        self._append(ReplyLine(status, separator, text))
        if separator != " ":
            return None
        reply = Reply(tuple(self._lines))
        self._lines = []
        self._size = 0
        return reply

    def _append(self, line: ReplyLine) -> None:
        self._lines.append(line)
        if len(self._lines) > self._max_lines:
            raise TorControlError(f"tor's control port sent a reply of more than {self._max_lines} lines")


def _text(raw: bytes) -> str:
    """A line's bytes as text (tor sends ASCII; anything else is kept visible, never trusted)."""
    return raw.decode("utf-8", errors="replace")


# --- commands -------------------------------------------------------------------------------------------

def check_argument(value: str, what: str) -> str:
    """``value`` when it is safe on a command line: printable ASCII, no CR, LF, NUL or other control
    character (which could end the line and start a command of someone else's choosing). Raises
    ``TorControlError`` naming ``what`` otherwise."""
    if not value or any(not (0x20 < ord(c) < 0x7F) for c in value):
        raise TorControlError(f"{what} {value!r} cannot be sent to tor: it must be printable ASCII without "
                              "spaces or line breaks")
    return value


def command(keyword: str, *arguments: str) -> bytes:
    """One command line, CRLF-terminated. Each argument must pass ``check_argument`` (quote text first)."""
    if not _KEYWORD.fullmatch(keyword):
        raise TorControlError(f"{keyword!r} is not a tor control command")
    parts = [keyword] + [check_argument(a, f"the {keyword} argument") for a in arguments]
    return (" ".join(parts) + "\r\n").encode("ascii")


def quote(text: str) -> str:
    """``text`` as a QuotedString (backslash and double quote escaped); refuses control characters."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in text):
        raise TorControlError(f"{text!r} cannot be sent to tor: it holds a control or non-ASCII character")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- reply parsers ---------------------------------------------------------------------------------------

def parse_arguments(text: str) -> tuple[list[str], dict[str, str]]:
    """Split ``text`` into positional words and ``KEY=value`` pairs (values may be QuotedStrings, whose
    escapes are undone). Raises ``TorControlError`` for an unterminated quote."""
    words: list[str] = []
    pairs: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        start = i
        while i < n and text[i] not in ' ="':
            i += 1
        key = text[start:i]
        if i < n and text[i] == "=":
            i += 1
            if i < n and text[i] == '"':
                value, i = _unquote(text, i)
            else:
                start = i
                while i < n and text[i] != " ":
                    i += 1
                value = text[start:i]
            pairs[key] = value
        elif i < n and text[i] == '"':
            value, i = _unquote(text, i)
            words.append(key + value)
        else:
            words.append(key)
    return words, pairs


def _unquote(text: str, i: int) -> tuple[str, int]:
    """The QuotedString starting at ``text[i]`` (a double quote) and the index after it."""
    out: list[str] = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise TorControlError(f"tor sent an unterminated quoted string: {text[:80]!r}")


@dataclass(frozen=True, slots=True)
class ProtocolInfo:
    """What PROTOCOLINFO said: the authentication methods, the cookie file, tor's version."""

    methods: frozenset[str]
    cookie_file: str | None
    version: str | None


def parse_protocolinfo(reply: Reply) -> ProtocolInfo:
    """The PROTOCOLINFO reply's facts. Raises ``TorControlError`` for an error reply or one without AUTH."""
    reply.raise_for_status("PROTOCOLINFO")
    methods: frozenset[str] | None = None
    cookie: str | None = None
    version: str | None = None
    for line in reply.lines:
        words, pairs = parse_arguments(line.text)
        if words[:1] == ["AUTH"]:
            methods = frozenset(m for m in pairs.get("METHODS", "").split(",") if m)
            cookie = pairs.get("COOKIEFILE")
        elif words[:1] == ["VERSION"]:
            version = pairs.get("Tor")
    if methods is None:
        raise TorControlError("tor's PROTOCOLINFO answer names no authentication methods; is this a tor "
                              "control port?")
    return ProtocolInfo(methods, cookie, version)


def safecookie_hashes(cookie: bytes, client_nonce: bytes, server_nonce: bytes) -> tuple[bytes, bytes]:
    """(the hash tor must show, the hash we answer with) for SAFECOOKIE authentication."""
    message = cookie + client_nonce + server_nonce
    server = hmac.new(SAFECOOKIE_SERVER_KEY, message, hashlib.sha256).digest()
    client = hmac.new(SAFECOOKIE_CLIENT_KEY, message, hashlib.sha256).digest()
    return server, client


def parse_authchallenge(reply: Reply) -> tuple[bytes, bytes]:
    """(server hash, server nonce) from the AUTHCHALLENGE reply. Raises ``TorControlError``."""
    reply.raise_for_status("AUTHCHALLENGE")
    words, pairs = parse_arguments(reply.lines[-1].text)
    try:
        server_hash = bytes.fromhex(pairs["SERVERHASH"])
        server_nonce = bytes.fromhex(pairs["SERVERNONCE"])
    except (KeyError, ValueError):
        raise TorControlError(f"tor's AUTHCHALLENGE answer is malformed: {reply.message[:80]!r}") from None
    if words[:1] != ["AUTHCHALLENGE"] or len(server_hash) != 32 or len(server_nonce) != NONCE_LENGTH:
        raise TorControlError(f"tor's AUTHCHALLENGE answer is malformed: {reply.message[:80]!r}")
    return server_hash, server_nonce


def parse_getinfo(reply: Reply, keys: tuple[str, ...]) -> dict[str, str]:
    """GETINFO's ``key=value`` lines (one-line and data-block values) for ``keys``. Raises
    ``TorControlError`` for an error reply (an unknown key: 552) or a key tor left out."""
    reply.raise_for_status("GETINFO " + " ".join(keys))
    values: dict[str, str] = {}
    for line in reply.lines:
        key, equals, value = line.text.partition("=")
        if not equals:
            continue
        values[key] = line.data if line.data is not None else value
    missing = [k for k in keys if k not in values]
    if missing:
        raise TorControlError(f"tor's GETINFO answer left out {', '.join(missing)}")
    return {k: values[k] for k in keys}


def parse_bootstrap(value: str) -> int:
    """The PROGRESS percentage (0-100) of a ``status/bootstrap-phase`` value such as
    ``NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"``. Raises ``TorControlError``."""
    _, pairs = parse_arguments(value)
    progress = pairs.get("PROGRESS", "")
    if not progress.isdigit() or not 0 <= int(progress) <= 100:
        raise TorControlError(f"tor's bootstrap status has no progress percentage: {value[:80]!r}")
    return int(progress)


def parse_add_onion(reply: Reply) -> str:
    """The ServiceID (56 base32 characters, no ".onion") of an ADD_ONION reply. Raises ``TorControlError``."""
    reply.raise_for_status("ADD_ONION")
    for line in reply.lines:
        key, _, value = line.text.partition("=")
        if key == "ServiceID":
            if not _SERVICE_ID.fullmatch(value):
                raise TorControlError(f"tor's ADD_ONION answer holds a malformed ServiceID {value[:80]!r}")
            return value
    raise TorControlError("tor's ADD_ONION answer holds no ServiceID")


def check_service_id(service_id: str) -> str:
    """``service_id`` when it is a v3 ServiceID (56 base32 characters); else ``TorControlError``."""
    if not _SERVICE_ID.fullmatch(service_id):
        raise TorControlError(f"{service_id!r} is not a v3 onion ServiceID (56 characters a-z, 2-7)")
    return service_id


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """An asynchronous event: its name ("HS_DESC") and the words and KEY=value pairs after it."""

    name: str
    words: tuple[str, ...]
    pairs: dict[str, str]
    text: str


def parse_event(reply: Reply) -> ControlEvent:
    """The event in a 650 reply (its first line: ``NAME word ... KEY=value ...``)."""
    if not reply.is_event:
        raise TorControlError(f"not an event: {reply.status} {reply.message[:80]!r}")
    text = reply.lines[0].text
    words, pairs = parse_arguments(text)
    if not words:
        raise TorControlError(f"tor sent an event without a name: {text[:80]!r}")
    return ControlEvent(words[0], tuple(words[1:]), pairs, text)


@dataclass(frozen=True, slots=True)
class HsDesc:
    """An HS_DESC event: ``action`` (UPLOADED, FAILED, ...), the service's ``address`` (ServiceID, no
    ".onion"), the HSDir, and tor's REASON when it gave one."""

    action: str
    address: str
    hsdir: str
    reason: str | None


def parse_hs_desc(event: ControlEvent) -> HsDesc:
    """The HS_DESC fields (``HS_DESC Action HSAddress AuthType HsDir ...``). Raises ``TorControlError``."""
    if event.name != "HS_DESC" or len(event.words) < 4:
        raise TorControlError(f"malformed HS_DESC event: {event.text[:80]!r}")
    action, address, _auth, hsdir = event.words[:4]
    return HsDesc(action, address, hsdir, event.pairs.get("REASON"))
