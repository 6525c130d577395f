# Type stub for the part of msgpack (>= 1.0.3) that meshcare calls; msgpack ships no types of its own.
#
# Only the names and keyword arguments used in meshcare/ are declared, so a new use of msgpack fails
# the type check until it is added here (check the signature against msgpack's fallback.py first).
# mypy finds this file through ``mypy_path = "stubs"`` in pyproject.toml.

from collections.abc import Callable
from typing import Literal

class UnpackException(Exception):
    """Base class of msgpack's unpacking errors; malformed input may also raise ValueError, TypeError
    or OverflowError, which is why meshcare catches all four."""

def packb(o: object, *, use_bin_type: bool = True) -> bytes:
    """Pack ``o``; raises TypeError for a value msgpack cannot pack, OverflowError for a too-large int."""

def unpackb(
    packed: bytes,
    *,
    raw: bool = False,
    use_list: bool = True,
    strict_map_key: bool = True,
    timestamp: Literal[0, 1, 2, 3] = 0,
    ext_hook: Callable[[int, bytes], object] = ...,
) -> object:
    """One unpacked msgpack value: peer or file input, so it is ``object`` and the caller checks its shape."""
