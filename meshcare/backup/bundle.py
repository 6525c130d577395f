"""What a backup holds, how it is written as bytes, and how it becomes a data directory again.

A ``Bundle`` is what is this person's own on this node and cannot be fetched back from anyone: the
identity (its seed and name), every circle's secret with the roster keys handed over at the welcome,
the node's chain counters, its support plan, its "who not to involve" lists, the ways to reach it kept
for the board, the invites it is still joining with, and the small files of settings that are the
person's own (``config.toml``, ``tui.toml``, ``outside-contacts.txt``). What it does not hold: the
store (message history, rosters, later epoch keys). Those are signed and encrypted envelopes the
circle keeps; a restored node with the same identity is still a member, so its neighbours bring them
back when it catches up, and the epoch keys in them were sealed to this identity.

``to_bytes``/``from_bytes`` are a versioned msgpack map. ``from_bytes`` treats its input as hostile
(a backup file is only as trustworthy as whoever could write it): every size, count and type is
checked and anything else is ``BadInput`` naming what is wrong. ``restore`` turns a bundle into a new
data directory and ``from_data_dir`` reads one from a data directory when no daemon runs (both are
file work, in ``datadir.py``); ``fileformat.py`` encrypts the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..circles.state import CircleEntry, Joining, LocalState
from ..crypto.keys import Identity, check_name
from ..errors import BadInput, RemoteProtocolError
from ..wire import pack, unpack_strict

if TYPE_CHECKING:
    from .datadir import RestoreReport

VERSION: Final = 1
#: The largest bundle written or read. A node in a dozen circles needs a few kilobytes; the cap leaves
#: room for hundreds of circles while the bundle, as base64, still fits one control message (1 MiB).
MAX_BUNDLE: Final = 640 * 1024
MAX_CIRCLES: Final = 256
MAX_MEMBERS: Final = 4096          # verified members, or people to leave out, per circle
MAX_ROSTER_KEYS: Final = 1024      # roster-key generations handed over in a welcome (the welcome caps at 500)
MAX_JOINING: Final = 64
MAX_FOLLOWUPS: Final = 4096
MAX_REACH: Final = 1024
MAX_PLAN_KEYS: Final = 64
MAX_PLAN_TEXT: Final = 16_384
MAX_TOKEN: Final = 8192
MAX_SETTINGS_FILE: Final = 64 * 1024
MAX_CONTACT_LINES: Final = 40
MAX_CONTACT_LINE: Final = 300
MAX_UINT: Final = 2**63 - 1
_ID: Final = 32

#: The files of the data directory a bundle carries, by its field.
CONFIG_FILE: Final = "config.toml"
TUI_FILE: Final = "tui.toml"
CONTACTS_FILE: Final = "outside-contacts.txt"


@dataclass(frozen=True, slots=True)
class BundleCircle:
    """One circle this node is in: what ``LocalState`` keeps of it, and the circle's name for people."""

    secret: bytes = field(repr=False)
    founder: bytes
    name: str = ""                     # as the roster said at export time ("" when not known)
    joined: int = 0
    verified: frozenset[bytes] = frozenset()
    roster_keys: Mapping[int, bytes] = field(default_factory=dict, repr=False)
    seq: int = 0                       # this node's last seq in the circle (0: none yet)
    prev: bytes = b""                  # that envelope's id (LocalState.prev), b"" when seq is 0
    avoid: frozenset[bytes] = frozenset()

    @property
    def topic(self) -> bytes:
        from ..circles.circle import circle_topic

        return bytes(circle_topic(self.secret, self.founder))


@dataclass(frozen=True, slots=True)
class BundleJoining:
    """An invite this node is using to join, until the welcome arrives."""

    invite_key: bytes
    token: str
    name: str
    since: int


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything a backup holds (see the module docstring). Build it with ``from_state``."""

    created: int
    name: str
    seed: bytes = field(repr=False)               # kept out of reprs, tracebacks and logs
    circles: tuple[BundleCircle, ...] = ()
    joining: tuple[BundleJoining, ...] = ()
    plan: Mapping[str, str] | None = None
    followups: frozenset[bytes] = frozenset()
    reach: Mapping[bytes, str] = field(default_factory=dict)
    config_toml: str | None = None
    tui_toml: str | None = None
    outside_contacts: tuple[str, ...] = ()
    version: int = VERSION

    # --- building and using ---------------------------------------------------------------------

    @classmethod
    def from_state(cls, identity: Identity, state: LocalState, now: int,
                   names: Mapping[bytes, str] | None = None) -> Bundle:
        """The bundle of a node's identity and local state (``names``: circle topic -> its name).
        Raises BadInput when the state is beyond what a bundle may hold."""
        names = names or {}
        circles = tuple(
            BundleCircle(secret=c.secret, founder=c.founder, name=names.get(topic, ""), joined=c.joined,
                         verified=frozenset(c.verified), roster_keys=dict(c.roster_keys),
                         seq=state.seq.get(topic, 0), prev=state.prev.get(topic, b""),
                         avoid=frozenset(state.avoid.get(topic, set())))
            for topic, c in sorted(state.circles.items()))
        joining = tuple(BundleJoining(k, j.token, j.name, j.since) for k, j in sorted(state.joining.items()))
        # calls whose follow-up this node already posted: past the cap some are left out (any: the set has no
        # order), and the worst that costs is one follow-up asked twice for an old call
        followups = frozenset(sorted(state.followups)[-MAX_FOLLOWUPS:])
        bundle = cls(created=int(now), name=identity.name, seed=identity.seed, circles=circles, joining=joining,
                     plan=dict(state.plan) if state.plan is not None else None, followups=followups,
                     reach=dict(state.reach))
        bundle.to_bytes()              # checks every bound now, where the person can still act on it
        return bundle

    def identity(self) -> Identity:
        return Identity.from_seed(self.seed, self.name)

    def to_state(self) -> LocalState:
        """The local state this bundle restores: circles, counters, plan and lists as they were."""
        state = LocalState()
        for c in self.circles:
            topic = c.topic
            state.circles[topic] = CircleEntry(c.secret, c.founder, set(c.verified), c.joined, dict(c.roster_keys))
            if c.seq:
                state.seq[topic] = c.seq
                if c.prev:
                    state.prev[topic] = c.prev
            if c.avoid:
                state.avoid[topic] = set(c.avoid)
        state.joining = {j.invite_key: Joining(j.token, j.name, j.since) for j in self.joining}
        state.plan = dict(self.plan) if self.plan is not None else None
        state.followups = set(self.followups)
        state.reach = dict(self.reach)
        return state

    def with_files(self, home: Path) -> Bundle:
        """This bundle with the person's own settings files of the data directory ``home`` (those that
        exist). Raises BadInput when one cannot be read or is larger than a bundle carries."""
        from .. import outside_contacts

        return replace(self, config_toml=_read_text(home / CONFIG_FILE), tui_toml=_read_text(home / TUI_FILE),
                       outside_contacts=tuple(outside_contacts.read(home)))

    def summary(self) -> dict[str, Any]:
        """What it holds, in plain keys (no secrets): for the CLI's words and ``--json``."""
        return {"name": self.name, "node_id": self.identity().node_id.hex(), "created": self.created,
                "circles": [c.name or c.topic.hex()[:16] for c in self.circles],
                "joining": len(self.joining), "plan": self.plan is not None,
                "settings": [n for n, v in ((CONFIG_FILE, self.config_toml), (TUI_FILE, self.tui_toml))
                             if v is not None] + ([CONTACTS_FILE] if self.outside_contacts else [])}

    # --- bytes ----------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The versioned msgpack form. Raises BadInput when a bound is exceeded (``from_bytes`` reads
        back exactly what this writes)."""
        obj = {"v": self.version, "created": self.created, "name": self.name, "seed": self.seed,
               "circles": [{"secret": c.secret, "founder": c.founder, "name": c.name, "joined": c.joined,
                            "verified": sorted(c.verified), "roster_keys": sorted(c.roster_keys.items()),
                            "seq": c.seq, "prev": c.prev, "avoid": sorted(c.avoid)} for c in self.circles],
               "joining": [{"invite": j.invite_key, "token": j.token, "name": j.name, "since": j.since}
                           for j in self.joining],
               "plan": dict(self.plan) if self.plan is not None else None,
               "followups": sorted(self.followups),
               "reach": sorted(self.reach.items()),
               "config": self.config_toml, "tui": self.tui_toml, "contacts": list(self.outside_contacts)}
        data = pack(obj)
        Bundle.from_bytes(data)      # one set of rules: what cannot be read back is never written
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Read a bundle. Raises BadInput (unknown version, or anything malformed, with what is wrong)."""
        if type(data) is not bytes:
            raise BadInput("a backup's contents are bytes")
        if len(data) > MAX_BUNDLE:
            raise BadInput(f"the backup's contents are {len(data)} bytes, more than the {MAX_BUNDLE} a backup holds")
        try:
            obj = unpack_strict(data, "backup contents")
        except RemoteProtocolError as exc:
            raise _bad(str(exc)) from None
        m = _Map(obj, "the backup")
        version = m.integer("v", 1, MAX_UINT)
        if version != VERSION:
            raise BadInput(f"the backup's contents have format version {version}; this meshcare reads version "
                           f"{VERSION}: upgrade meshcare to restore it")
        name = m.text("name", 1, 64)
        try:
            name = check_name(name)
        except BadInput as exc:
            raise _bad(f"the name: {exc}") from None
        circles = tuple(_circle(_Map(c, f"circle {i + 1}")) for i, c in
                        enumerate(m.items("circles", MAX_CIRCLES)))
        if len({(c.secret, c.founder) for c in circles}) != len(circles):
            raise _bad("a circle appears twice")
        joining = tuple(_joining(_Map(j, f"joining {i + 1}")) for i, j in enumerate(m.items("joining", MAX_JOINING)))
        if len({j.invite_key for j in joining}) != len(joining):
            raise _bad("an invite appears twice")
        plan_obj = m.get("plan")
        plan = None if plan_obj is None else _plan(plan_obj)
        reach: dict[bytes, str] = {}
        pairs = m.items("reach", MAX_REACH)
        for i, pair in enumerate(pairs):
            item, text = _pair(pair, f"reach item {i + 1}")
            reach[_bytes(item, f"reach item {i + 1}", _ID, _ID)] = _text(text, f"reach item {i + 1}", 0, MAX_PLAN_TEXT)
        if len(reach) != len(pairs):
            raise _bad("a reach item appears twice")
        contacts = tuple(_text(line, f"outside contact {i + 1}", 1, MAX_CONTACT_LINE)
                         for i, line in enumerate(m.items("contacts", MAX_CONTACT_LINES)))
        bundle = cls(created=m.integer("created", 0, MAX_UINT), name=name, seed=m.blob("seed", 32, 32),
                     circles=circles, joining=joining, plan=plan,
                     followups=_ids(m.items("followups", MAX_FOLLOWUPS), "followups"),
                     reach=reach, config_toml=m.file("config"), tui_toml=m.file("tui"), outside_contacts=contacts,
                     version=version)
        m.done()
        return bundle


def restore(bundle: Bundle, data_dir: Path, *, replace: bool = False, passphrase: bytes | None = None,
            now: float | None = None) -> RestoreReport:
    """Write ``bundle`` as a new data directory ``data_dir`` (see ``datadir.restore``)."""
    from . import datadir

    return datadir.restore(bundle, data_dir, replace=replace, passphrase=passphrase, now=now)


def from_data_dir(home: Path, passphrase: bytes | None, now: float) -> Bundle:
    """The bundle of the node in ``home``, read from its files (see ``datadir.from_data_dir``)."""
    from . import datadir

    return datadir.from_data_dir(home, passphrase, now)


# --- reading, every field checked -----------------------------------------------------------------


def _bad(why: str) -> BadInput:
    return BadInput(f"the backup's contents are not valid ({why}); it was made by another program or altered")


def _bytes(value: object, what: str, lo: int, hi: int) -> bytes:
    if type(value) is not bytes or not lo <= len(value) <= hi:
        raise _bad(f"{what} must be {lo if lo == hi else f'{lo} to {hi}'} bytes")
    return value


def _text(value: object, what: str, lo: int, hi: int) -> str:
    if type(value) is not str or not lo <= len(value) <= hi:
        raise _bad(f"{what} must be text of {lo} to {hi} characters")
    return value


def _int(value: object, what: str, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise _bad(f"{what} must be a whole number from {lo} to {hi}")
    return value


def _pair(value: object, what: str) -> tuple[object, object]:
    if type(value) is not list or len(value) != 2:
        raise _bad(f"{what} must be a pair")
    return value[0], value[1]


def _ids(values: list[object], what: str) -> frozenset[bytes]:
    out = frozenset(_bytes(v, f"an item of {what}", _ID, _ID) for v in values)
    if len(out) != len(values):
        raise _bad(f"an item of {what} appears twice")
    return out


class _Map:
    """A msgpack map read key by key; ``done`` refuses keys nobody read."""

    def __init__(self, obj: object, what: str) -> None:
        if type(obj) is not dict:
            raise _bad(f"{what} must be a map")
        self.obj: dict[str, object] = obj
        self.what = what
        self.seen: set[str] = set()

    def get(self, key: str) -> object:
        self.seen.add(key)
        if key not in self.obj:
            raise _bad(f"{self.what} has no {key!r}")
        return self.obj[key]

    def integer(self, key: str, lo: int, hi: int) -> int:
        return _int(self.get(key), f"{key!r} of {self.what}", lo, hi)

    def text(self, key: str, lo: int, hi: int) -> str:
        return _text(self.get(key), f"{key!r} of {self.what}", lo, hi)

    def blob(self, key: str, lo: int, hi: int) -> bytes:
        return _bytes(self.get(key), f"{key!r} of {self.what}", lo, hi)

    def items(self, key: str, most: int) -> list[object]:
        value = self.get(key)
        if type(value) is not list or len(value) > most:
            raise _bad(f"{key!r} of {self.what} must be a list of at most {most} items")
        return value

    def file(self, key: str) -> str | None:
        value = self.get(key)
        return None if value is None else _text(value, f"{key!r} of {self.what}", 0, MAX_SETTINGS_FILE)

    def done(self) -> None:
        extra = sorted(set(self.obj) - self.seen)
        if extra:
            raise _bad(f"{self.what} has unknown keys: {', '.join(map(repr, extra))}")


def _circle(m: _Map) -> BundleCircle:
    roster_keys: dict[int, bytes] = {}
    pairs = m.items("roster_keys", MAX_ROSTER_KEYS)
    for pair in pairs:
        generation, key = _pair(pair, f"a roster key of {m.what}")
        roster_keys[_int(generation, f"a roster-key generation of {m.what}", 0, MAX_UINT)] = \
            _bytes(key, f"a roster key of {m.what}", 32, 32)
    if len(roster_keys) != len(pairs):
        raise _bad(f"a roster-key generation of {m.what} appears twice")
    seq = m.integer("seq", 0, MAX_UINT)
    prev = m.blob("prev", 0, _ID)
    if len(prev) not in ((0,) if seq == 0 else (0, _ID)):
        raise _bad(f"the last envelope of {m.what} is named by an id of 32 bytes, and only when seq is above 0")
    circle = BundleCircle(secret=m.blob("secret", 32, 32), founder=m.blob("founder", _ID, _ID),
                          name=m.text("name", 0, 64), joined=m.integer("joined", 0, MAX_UINT),
                          verified=_ids(m.items("verified", MAX_MEMBERS), f"the verified members of {m.what}"),
                          roster_keys=roster_keys, seq=seq, prev=prev,
                          avoid=_ids(m.items("avoid", MAX_MEMBERS), f"the people left out in {m.what}"))
    m.done()
    return circle


def _joining(m: _Map) -> BundleJoining:
    joining = BundleJoining(invite_key=m.blob("invite", 32, 32), token=m.text("token", 1, MAX_TOKEN),
                            name=m.text("name", 1, 64), since=m.integer("since", 0, MAX_UINT))
    m.done()
    return joining


def _plan(obj: object) -> dict[str, str]:
    if type(obj) is not dict or len(obj) > MAX_PLAN_KEYS:
        raise _bad(f"the support plan must be a map of at most {MAX_PLAN_KEYS} parts")
    return {_text(k, "a part's name in the support plan", 1, 64): _text(v, f"the part {k!r} of the support plan",
                                                                        0, MAX_PLAN_TEXT)
            for k, v in obj.items()}


def _read_text(path: Path) -> str | None:
    """A settings file's text, or None when there is none. Raises BadInput (unreadable, too large)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}; it must be a file you can read") from None
    if len(data) > MAX_SETTINGS_FILE:
        raise BadInput(f"{path} is {len(data)} bytes; a backup carries settings files of up to "
                       f"{MAX_SETTINGS_FILE} bytes: shorten it or move it aside")
    return data.decode("utf-8", errors="replace")
