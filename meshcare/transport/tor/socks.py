"""Dialling through tor's SOCKS port (trio shell over socks_protocol.py).

``open_via_socks`` returns the plain TCP stream to tor once tor said the connection to ``host:port`` is
made; from then on it carries the tunnel. Every failure is a ``TorDialError`` whose message says in words
why (tor's extended SOCKS errors included) and whose ``code`` is the SOCKS reply code, or None when tor
gave none (not reachable, silent, broken answer). The whole exchange is bounded by ``timeout``: onion
dials are slow (5-30 s is normal on the real network), so callers give them their own, longer bound.
"""

from __future__ import annotations

import trio

from ...errors import TorDialError
from .socks_protocol import SocksConnect


async def open_via_socks(socks: tuple[str, int], host: str, port: int, *, timeout: float,
                         isolation: str | None = None) -> trio.abc.Stream:
    """A stream to ``host:port`` through the SOCKS5 proxy (tor) at ``socks``, within ``timeout`` seconds.

    ``isolation`` (a fresh value per attempt) is sent as the SOCKS5 username so tor builds new circuits
    for this attempt. Raises ``TorDialError``.
    """
    exchange = SocksConnect(host, port, isolation=isolation)
    where = f"{socks[0]}:{socks[1]}"
    with trio.move_on_after(timeout):
        try:
            stream = await trio.open_tcp_stream(*socks)
        except OSError as exc:
            raise TorDialError(f"cannot reach tor's SOCKS port at {where} ({exc.strerror or exc}): is tor running, "
                               "with `SocksPort` set in torrc?") from None
        try:
            await _exchange(stream, exchange)
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return stream
    raise TorDialError(f"cannot reach {host}:{port} through tor: no connection within {timeout:g} s (the network "
                       "is slow, tor is still starting, or the node is off)")


async def _exchange(stream: trio.abc.Stream, exchange: SocksConnect) -> None:
    try:
        await stream.send_all(exchange.data_to_send())
        while not exchange.done:
            data = await stream.receive_some(exchange.needed)
            if not data:
                raise TorDialError(f"cannot reach {exchange.where} through tor: tor closed the SOCKS connection "
                                   "without an answer")
            exchange.receive_data(data)
            if out := exchange.data_to_send():
                await stream.send_all(out)
    except (trio.BrokenResourceError, OSError) as exc:
        raise TorDialError(f"cannot reach {exchange.where} through tor: the connection to tor's SOCKS port broke "
                           f"({exc or type(exc).__name__})") from None
