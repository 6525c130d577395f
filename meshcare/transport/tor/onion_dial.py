"""Dialling a ``.onion`` address: through tor's SOCKS port, bounded, on fresh circuits, NEWNYM after a failure.

Why each piece (trial notes, research/tor-private-network.md sections 7.8 and 9): a cold onion connect takes
5 to 30 s on the real Tor network, so the SOCKS phase gets its own ``TOR_DIAL_TIMEOUT`` (60 s), not the LAN's
5 s. A stuck rendezvous circuit keeps every new stream to that onion waiting for minutes, so each attempt
sends a fresh SOCKS username (tor's IsolateSOCKSAuth, on by default, puts it on new circuits) and a failed
or timed-out attempt asks tor for NEWNYM (at most once per 10 s, ``tor_state.NewnymLimit``). A node that
does not use Tor answers an onion Connect at once, so its engine backs that address off like a failed dial.
"""

from __future__ import annotations

import secrets
from typing import Final

import trio

from ...errors import TorError
from .socks import open_via_socks
from .tor_state import TorOptions

Address = tuple[str, int]

#: The SOCKS phase of an onion dial: descriptor fetch, introduction and rendezvous circuits
TOR_DIAL_TIMEOUT: Final = 60.0
NO_TOR: Final = "this node does not use Tor (start it with --tor)"


async def open_onion(tor: TorOptions | None, key: Address) -> tuple[trio.abc.Stream | None, str]:
    """A stream to the onion ``key`` through tor; or None and why not, in words (for ``LinkClosed``)."""
    if tor is None:
        return None, NO_TOR
    isolation = secrets.token_hex(8)        # a fresh SOCKS username per attempt: fresh circuits
    try:
        with trio.fail_after(TOR_DIAL_TIMEOUT + 5.0):   # (open_via_socks bounds itself; this is the backstop)
            stream = await open_via_socks(tor.socks, key[0], key[1], timeout=TOR_DIAL_TIMEOUT, isolation=isolation)
        return stream, ""
    except trio.TooSlowError:
        return None, f"onion dial failed: no answer through tor within {TOR_DIAL_TIMEOUT:.0f} s"
    except TorError as exc:         # (its words name the onion and what tor answered)
        return None, str(exc)
    except OSError as exc:
        return None, f"onion dial failed: {exc}"
