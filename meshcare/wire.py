"""Framing and the typed frame codec (pure: bytes in, frozen dataclasses out).

Theory of operation
-------------------
On a link, after the Noise handshake, the plaintext stream is a sequence of *frames*::

    frame   = length:uint32-big-endian  body:msgpack
    body    = [type:int, field1, field2, ...]          (a positional msgpack array)

``length`` counts the body only and may not exceed the decoder's cap (``MAX_FRAME_SIZE`` by default):
a larger announcement is a ``FrameTooLarge`` error and the link is closed, so a peer can never make us
buffer more than the cap. Each frame type is a frozen dataclass registered in a ``FrameCodec`` with a
type number; fields are encoded in declaration order. Decoding is strict: exact arity, exact types
(``bytes`` is msgpack bin, ``str`` is msgpack str, map keys are strings, integers fit in 64 bits
signed), no msgpack extension types. Anything else is a ``RemoteProtocolError`` that closes the one link
that sent it. The same framing (``encode_frame`` / ``FrameDecoder``) carries the control protocol
between the daemon and its clients. The frame types themselves live with the protocol that speaks them:
the link's in ``sync/frames.py``.
"""

from __future__ import annotations

import dataclasses
import struct
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Final, Generic, TypeVar

import msgpack

from .errors import FrameTooLarge, LocalProtocolError, RemoteProtocolError

#: Version of the link protocol spoken after the handshake (negotiated in Hello).
WIRE_VERSION: Final = 1
#: Default hard cap on one frame body. A frame may batch many envelopes (each <= 32 KiB).
MAX_FRAME_SIZE: Final = 256 * 1024
HEADER = struct.Struct(">I")
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1

_MSGPACK_ERRORS = (ValueError, TypeError, OverflowError, msgpack.UnpackException)


def _no_ext(code: int, data: bytes) -> object:
    raise ValueError(f"msgpack extension type {code} is not allowed")


def unpack_strict(data: bytes, what: str = "frame") -> Any:
    """Unpack one msgpack object with the strict settings every meshcare decoder uses.

    What docs/protocol.md allows and nothing else: str map keys only, integers in signed 64 bits, no
    extension types (msgpack decodes ext -1 into a Timestamp without asking ``ext_hook``, so the tree is
    checked after unpacking), nothing after the object. Raises RemoteProtocolError.
    """
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True, ext_hook=_no_ext,
                                timestamp=0)
    except _MSGPACK_ERRORS as exc:
        raise RemoteProtocolError(f"malformed {what}: not a single valid msgpack object ({exc})") from None
    problem = _disallowed(value)
    if problem:
        raise RemoteProtocolError(f"malformed {what}: {problem}")
    return value


_SCALARS: Final = frozenset({bytes, str, bool, float, type(None)})


def _disallowed(value: object) -> str:
    """Why ``value`` (freshly unpacked) breaks the protocol's msgpack subset; "" when it does not.

    Iterative, so a deeply nested value cannot exhaust the stack; scalars in lists are checked inline
    (a Push is a long list of bin), only containers are stacked.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is list:
            children: Iterable[object] = item
        elif type(item) is dict:
            for key in item:
                if type(key) is not str:
                    return "map keys must be strings"
            children = item.values()
        else:
            children = (item,)
        for child in children:
            ckind = type(child)
            if ckind in _SCALARS:
                continue
            if type(child) is int:  # not ``ckind``: mypy narrows ``child`` only on a direct type() test
                if not INT_MIN <= child <= INT_MAX:
                    return "integer outside the signed 64-bit range"
            elif ckind is list or ckind is dict:
                if child is not item:
                    stack.append(child)
            else:
                return f"msgpack type {ckind.__name__} is not allowed (no extension types)"
    return ""


def pack(obj: object) -> bytes:
    """msgpack with bin/str kept distinct (the only packing meshcare uses)."""
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def encode_frame(body: bytes, max_size: int = MAX_FRAME_SIZE) -> bytes:
    """Prefix an already packed body with its length. Raises LocalProtocolError if over the cap."""
    if len(body) > max_size:
        raise LocalProtocolError(f"frame of {len(body)} bytes exceeds the {max_size}-byte cap; split it")
    return HEADER.pack(len(body)) + body


T = TypeVar("T")


class FrameDecoder(Generic[T]):
    """Feed-style decoder: bytes in any chunking in, decoded items out, in order.

    It never holds more than one partial frame (at most ``max_size`` + 4 bytes), whatever the caller
    feeds at once; frames completely inside a fed chunk are decoded without copying. After an error
    the stream is unusable (the framing can no longer be trusted) and every later ``feed`` raises again.
    """

    __slots__ = ("_decode", "_max", "_buf", "_need", "_failed")

    def __init__(self, decode: Callable[[bytes], T], max_size: int = MAX_FRAME_SIZE) -> None:
        self._decode = decode
        self._max = max_size
        self._buf = bytearray()
        self._need = -1  # body length of the frame being assembled, -1 while reading the header
        self._failed: RemoteProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for a partial frame (for tests and statistics)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[T]:
        """Consume ``data``; return every frame it completes. Raises RemoteProtocolError."""
        if self._failed is not None:
            raise self._failed
        try:
            return self._feed(memoryview(data))
        except RemoteProtocolError as exc:
            self._failed = exc
            self._buf.clear()
            raise

    def _feed(self, view: memoryview) -> list[T]:
        out: list[T] = []
        buf, pos, end = self._buf, 0, len(view)
        while pos < end:
            if self._need < 0:
                if not buf and end - pos >= 4:  # fast path: header wholly in this chunk
                    (n,) = HEADER.unpack_from(view, pos)
                    pos += 4
                else:
                    take = min(4 - len(buf), end - pos)
                    buf += view[pos:pos + take]
                    pos += take
                    if len(buf) < 4:
                        break
                    (n,) = HEADER.unpack_from(buf)
                    buf.clear()
                if n > self._max:
                    raise FrameTooLarge(f"peer announced a {n}-byte frame; the cap is {self._max}")
                self._need = n
            if not buf and end - pos >= self._need:  # fast path: whole body in this chunk
                body = bytes(view[pos:pos + self._need])
                pos += self._need
            else:
                take = min(self._need - len(buf), end - pos)
                buf += view[pos:pos + take]
                pos += take
                if len(buf) < self._need:
                    break
                body = bytes(buf)
                buf.clear()
            self._need = -1
            out.append(self._decode(body))
        return out

    def at_boundary(self) -> bool:
        """True when no partial frame is pending (a clean place for the stream to end)."""
        return self._need < 0 and not self._buf


# ---------------------------------------------------------------------------------------------------
# Typed frames


def _int_check(v: object) -> bool:
    return type(v) is int and INT_MIN <= v <= INT_MAX


def _validator(tp: Any) -> Callable[[object], bool]:
    """Build a predicate for one annotated field type (int, bool, bytes, str, list[X], dict[str, X], X | None)."""
    if tp is int:
        return _int_check
    if tp in (bool, bytes, str, float):
        def exact(v: object, t: type = tp) -> bool:
            return type(v) is t
        return exact
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        item = _validator(args[0])
        return lambda v: type(v) is list and all(item(x) for x in v)
    if origin is dict:
        if args[0] is not str:
            raise LocalProtocolError("frame maps must have str keys")
        value = _validator(args[1])
        return lambda v: type(v) is dict and all(type(k) is str and value(x) for k, x in v.items())
    if origin in (typing.Union, types.UnionType):
        options = [_validator(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        return lambda v: (nullable and v is None) or any(o(v) for o in options)
    raise LocalProtocolError(f"unsupported frame field type {tp!r}")


class Frame:
    """Base of every typed frame; subclasses are frozen slotted dataclasses with a ``TYPE`` number."""

    TYPE: ClassVar[int]
    #: Set by ``@dataclass`` on each subclass; declared here so a Frame is a dataclass to the type checker.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    __slots__ = ()


F = TypeVar("F", bound=Frame)


class FrameCodec:
    """Maps type numbers to frame classes and back, validating every field on the way in."""

    def __init__(self, frame_types: Iterable[type[Frame]]) -> None:
        self._by_type: dict[int, tuple[type[Frame], list[tuple[str, Callable[[object], bool]]]]] = {}
        for cls in frame_types:
            if not dataclasses.is_dataclass(cls):
                raise LocalProtocolError(f"{cls.__name__} must be a dataclass")
            if cls.TYPE in self._by_type:
                raise LocalProtocolError(f"frame type {cls.TYPE} registered twice")
            hints = typing.get_type_hints(cls)
            checks = [(f.name, _validator(hints[f.name])) for f in dataclasses.fields(cls)]
            self._by_type[cls.TYPE] = (cls, checks)

    def encode(self, frame: Frame, max_size: int = MAX_FRAME_SIZE) -> bytes:
        """Length-prefixed encoding of ``frame``."""
        values = [getattr(frame, f.name) for f in dataclasses.fields(frame)]
        return encode_frame(pack([frame.TYPE, *values]), max_size)

    def decode(self, body: bytes) -> Frame:
        """Decode one frame body (without its length prefix). Raises RemoteProtocolError."""
        items = unpack_strict(body)
        if type(items) is not list or not items or type(items[0]) is not int:
            raise RemoteProtocolError("malformed frame: expected [type, fields...]")
        entry = self._by_type.get(items[0])
        if entry is None:
            raise RemoteProtocolError(f"unknown frame type {items[0]}")
        cls, checks = entry
        if len(items) != len(checks) + 1:
            raise RemoteProtocolError(
                f"malformed {cls.__name__} frame: {len(items) - 1} fields, expected {len(checks)}")
        for (name, check), value in zip(checks, items[1:]):
            if not check(value):
                raise RemoteProtocolError(f"malformed {cls.__name__} frame: bad field {name!r}")
        return cls(*items[1:])

    def decoder(self, max_size: int = MAX_FRAME_SIZE) -> FrameDecoder[Frame]:
        """A fresh stream decoder yielding this codec's frames."""
        return FrameDecoder(self.decode, max_size)
