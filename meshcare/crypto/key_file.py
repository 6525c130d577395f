"""Reading the small msgpack key files of the data dir (``identity.key``, ``onion.key``).

Both are a versioned map; both must tell a damaged file from one written by a newer meshcare, with each
file's own words and error type. The checks live here once; each file's module says the words.
"""

from __future__ import annotations

from collections.abc import Callable

import msgpack


def parse_key_file(data: bytes, *, max_size: int, version: int, what: str,
                   damaged: Callable[[str], Exception],
                   wrong_version: Callable[[object], Exception]) -> dict[str, object]:
    """The map in a key file's ``data``: raises ``damaged(why)`` for a file too large or not a map of
    msgpack (``what`` names what it should be), ``wrong_version(v)`` when its ``v`` is not ``version``."""
    if len(data) > max_size:
        raise damaged("too large")
    try:
        record = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, TypeError, OverflowError, msgpack.UnpackException):
        raise damaged(f"not {what}") from None
    if type(record) is not dict:
        raise damaged(f"not {what}")
    if record.get("v") != version:
        raise wrong_version(record.get("v"))
    return record
