"""Roster-operation bodies: the check every decrypted roster body passes before anything folds it. Pure.

``validate`` takes what a roster envelope decrypts to (any msgpack value: peer input) and returns its kind
and a normalised body (ids and sizes checked, sealed keys as a map, settings as ``CircleSettings``, parents
sorted and unique), or raises ``RemoteProtocolError``. Which fields each kind carries is ``_FIELDS``;
the bounds (ids, names, parents, sealed keys) are membership.py's constants. Kept apart from the fold:
the circle validates every roster body it opens or writes, so the fold (membership.py) works on
validated ones.
"""

from __future__ import annotations

from typing import Any, Final

from .. import vocab
from ..crypto import sign as _sign
from ..errors import BadInput, RemoteProtocolError
from .membership import EPOCH_MASK, ID_SIZE, KEYED, MAX_KEYS, MAX_NAME, MAX_PARENTS, ROLES, CircleSettings
from .reach import check_reach

def _bad(kind: str, why: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"malformed roster operation {kind!r}: {why}")


def _id(kind: str, value: object, name: str) -> bytes:
    if type(value) is not bytes or len(value) != ID_SIZE:
        raise _bad(kind, f"{name} must be {ID_SIZE} bytes")
    return value


def _int(kind: str, value: object, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _bad(kind, f"{name} must be an integer from {low} to {high}")
    return value


def _str(kind: str, value: object, name: str, high: int) -> str:
    if type(value) is not str or not 1 <= len(value) <= high or not value.isprintable():
        raise _bad(kind, f"{name} must be 1 to {high} printable characters")
    return value


def _keys(kind: str, value: object, name: str) -> dict[bytes, bytes]:
    if type(value) is not list or len(value) > MAX_KEYS:
        raise _bad(kind, f"{name} must be a list of at most {MAX_KEYS} [member, sealed] pairs")
    out: dict[bytes, bytes] = {}
    previous = b""
    for pair in value:
        if type(pair) is not list or len(pair) != 2:
            raise _bad(kind, f"{name} entries are [member, sealed] pairs")
        member = _id(kind, pair[0], "member")
        if member <= previous:
            raise _bad(kind, f"{name} must be sorted by member, without repeats")
        previous = member
        if type(pair[1]) is not bytes or not 48 <= len(pair[1]) <= 4096:
            raise _bad(kind, "sealed key has the wrong size")
        out[member] = pair[1]
    return out


def _settings(kind: str, value: object) -> CircleSettings:
    if type(value) is not dict or set(value) - set(CircleSettings().to_dict()):
        raise _bad(kind, "settings must be a map of known settings")
    base = CircleSettings()
    return CircleSettings(
        retention_days=_int(kind, value.get("retention_days", base.retention_days), "retention_days",
                            vocab.MIN_RETENTION_DAYS, vocab.MAX_RETENTION_DAYS),
        rotate_days=_int(kind, value.get("rotate_days", base.rotate_days), "rotate_days", 0, vocab.MAX_ROTATE_DAYS),
        share_history=_bool(kind, value.get("share_history", base.share_history), "share_history"),
        members_invite=_bool(kind, value.get("members_invite", base.members_invite), "members_invite"))


def _bool(kind: str, value: object, name: str) -> bool:
    if type(value) is not bool:
        raise _bad(kind, f"{name} must be true or false")
    return value


_FIELDS: Final[dict[str, frozenset[str]]] = {
    "create": frozenset({"name", "member_name", "settings", "keys"}),
    "invite": frozenset({"invite", "role", "expires"}),
    "revoke": frozenset({"invite"}),
    "admit": frozenset({"invite", "member", "name", "proof", "keys", "history"}),
    "remove": frozenset({"member", "last_seq", "last_id", "keys", "roster_keys"}),
    "leave": frozenset({"last_seq", "last_id"}),
    "role": frozenset({"member", "role"}),
    "rotate": frozenset({"keys", "roster_keys"}),
    "settings": frozenset({"settings"}),
    "seen": frozenset(),
    "rename": frozenset({"name"}),
    "reach": frozenset({"onion"}),
}


def validate(body: object) -> tuple[str, dict[str, Any]]:
    """Check a decrypted roster body; return (kind, normalised body). Raises RemoteProtocolError."""
    if type(body) is not dict:
        raise _bad("?", "the body must be a map")
    kind = body.get("k")
    if type(kind) is not str or kind not in _FIELDS:
        raise _bad(str(kind)[:20], "unknown kind")
    extra = set(body) - _FIELDS[kind] - {"k", "parents"}
    if extra:
        raise _bad(kind, f"unknown fields {sorted(map(str, extra))}")
    optional = {"history"} | ({"settings", "member_name"} if kind == "create" else set())
    if kind == "rotate":
        optional.add("roster_keys")
    missing = _FIELDS[kind] - optional - set(body)
    if missing:
        raise _bad(kind, f"missing fields {sorted(missing)}")
    parents = body.get("parents", [])
    if type(parents) is not list or len(parents) > MAX_PARENTS:
        raise _bad(kind, f"parents must be a list of at most {MAX_PARENTS} ids")
    out: dict[str, Any] = {"parents": tuple(sorted({_id(kind, p, "parent") for p in parents}))}
    if kind == "create":
        out["name"] = _str(kind, body["name"], "name", MAX_NAME)
        out["member_name"] = _str(kind, body.get("member_name", "founder"), "member_name", MAX_NAME)
        out["settings"] = _settings(kind, body.get("settings", {}))
    if kind in ("invite", "revoke", "admit"):
        out["invite"] = _id(kind, body["invite"], "invite")
    if kind == "invite":
        if body["role"] not in ROLES:
            raise _bad(kind, "role must be facilitator, member or relay")
        out["role"] = body["role"]
        out["expires"] = _int(kind, body["expires"], "expires", 0, EPOCH_MASK)
    if kind in ("admit", "remove", "role"):
        out["member"] = _id(kind, body["member"], "member")
    if kind in ("admit", "rename"):
        out["name"] = _str(kind, body["name"], "name", MAX_NAME)
    if kind == "admit":
        if type(body["proof"]) is not bytes or len(body["proof"]) != _sign.SIGNATURE_SIZE:
            raise _bad(kind, "proof must be a signature")
        out["proof"] = body["proof"]
        out["history"] = _keys(kind, body.get("history", []), "history")
    if kind in ("remove", "leave"):
        out["last_seq"] = _int(kind, body["last_seq"], "last_seq", 0, EPOCH_MASK)
        last_id = body["last_id"]
        if type(last_id) is not bytes or len(last_id) != (0 if out["last_seq"] == 0 else ID_SIZE):
            raise _bad(kind, "last_id is b'' for last_seq 0 and a 32-byte envelope id otherwise")
        out["last_id"] = last_id
    if kind == "role":
        if body["role"] not in ("facilitator", "member"):
            raise _bad(kind, "role must be facilitator or member")
        out["role"] = body["role"]
    if kind == "settings":
        out["settings"] = _settings(kind, body["settings"])
    if kind == "reach":
        try:
            out["onion"] = check_reach(body["onion"])
        except BadInput as exc:
            raise _bad(kind, str(exc)) from None
    if kind in KEYED:
        out["keys"] = _keys(kind, body["keys"], "keys")
    if "roster_keys" in body:
        out["roster_keys"] = _keys(kind, body["roster_keys"], "roster_keys")
    if kind == "create" and out["parents"]:
        raise _bad(kind, "create has no parents")
    if kind != "create" and not out["parents"]:
        raise _bad(kind, "every operation but create names its parents")
    return kind, out
