"""The SOCKS5 server side of the fake tor (tests/fake_tor.py): reading a client's greeting and CONNECT,
answering, and splicing bytes once connected. The registry and hooks that decide the answer are FakeTor's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import trio


@dataclass
class SocksRequest:
    """One CONNECT the SOCKS port saw, with the SOCKS5 username/password (None without) and the answer."""

    host: str
    port: int
    username: str | None
    password: str | None
    reply: int | None = None


class Reader:
    """Exact reads and lines over a stream, keeping what came beyond them."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def _more(self) -> None:
        data = await self.stream.receive_some(16384)
        if not data:
            raise EOFError
        self.buffer += data

    async def exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            await self._more()
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    async def line(self, limit: int = 16384) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > limit:
                raise EOFError
            await self._more()
        end = self.buffer.index(b"\n")
        raw = bytes(self.buffer[:end]).rstrip(b"\r")
        del self.buffer[: end + 1]
        return raw.decode("utf-8", errors="replace")


async def socks_handshake(reader: Reader, seen: list[SocksRequest]) -> SocksRequest | None:
    """Read a SOCKS5 greeting (no-auth or username/password: any is accepted) and CONNECT request;
    the request (appended to ``seen``), or None when it was answered with a refusal already."""
    version, count = await reader.exactly(2)
    methods = await reader.exactly(count)
    if version != 5:
        return None
    username = password = None
    if 2 in methods:
        await reader.stream.send_all(b"\x05\x02")
        sub, ulen = await reader.exactly(2)
        username = (await reader.exactly(ulen)).decode("utf-8", "replace")
        (plen,) = await reader.exactly(1)
        password = (await reader.exactly(plen)).decode("utf-8", "replace")
        await reader.stream.send_all(b"\x01\x00")
    elif 0 in methods:
        await reader.stream.send_all(b"\x05\x00")
    else:
        await reader.stream.send_all(b"\x05\xff")
        return None
    _, command, _, atyp = await reader.exactly(4)
    if atyp == 3:
        (length,) = await reader.exactly(1)
        host = (await reader.exactly(length)).decode("utf-8", "replace")
    elif atyp == 1:
        host = ".".join(str(b) for b in await reader.exactly(4))
    elif atyp == 4:
        host = (await reader.exactly(16)).hex()
    else:
        await reader.stream.send_all(socks_reply(8))
        return None
    (port,) = struct.unpack("!H", await reader.exactly(2))
    request = SocksRequest(host, port, username, password)
    seen.append(request)
    if command != 1:
        request.reply = 7
        await reader.stream.send_all(socks_reply(7))
        return None
    return request


def socks_reply(code: int) -> bytes:
    """A SOCKS5 reply with ``code`` and the address 0.0.0.0:0 (as tor sends)."""
    return bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0])


async def splice(client: Reader, target: trio.abc.Stream) -> None:
    """Copy bytes both ways until either side ends, then close both."""
    async with target:
        if client.buffer:
            await target.send_all(bytes(client.buffer))
            client.buffer.clear()

        async def copy(source: trio.abc.Stream, sink: trio.abc.Stream, scope: trio.CancelScope) -> None:
            try:
                while data := await source.receive_some(65536):
                    await sink.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(copy, client.stream, target, nursery.cancel_scope)
            nursery.start_soon(copy, target, client.stream, nursery.cancel_scope)
