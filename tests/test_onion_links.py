"""``transport/tor/onion_links.py`` without sockets: what a handshake names over Tor, and TorChanged told once."""

from __future__ import annotations

from meshcare.crypto.onion_key import OnionKey
from meshcare.node_events import TorChanged
from meshcare.transport.tor.onion_links import OnionLinks
from meshcare.transport.tor.tor_state import TorOptions, TorState


async def never(stream, source) -> None:    # (no listener runs in these tests)
    raise AssertionError("nothing is accepted here")


def onion_links(options: TorOptions | None, told: list[TorChanged]) -> OnionLinks:
    return OnionLinks(options, told.append, lambda: (0, 8), never)


def test_a_dialler_with_an_onion_service_names_its_key_and_onion_port_and_nobody_else_does():
    key = OnionKey.generate()
    with_service = onion_links(TorOptions(("127.0.0.1", 9050), "127.0.0.1:9051", 7447, key), [])
    assert with_service.binding(True, 5000) == (key, 7447)
    assert with_service.binding(False, 5000) == (None, 5000)      # the listener names no onion key
    dial_only = onion_links(TorOptions(("127.0.0.1", 9050), "127.0.0.1:9051", 7447), [])
    assert dial_only.binding(True, 5000) == (None, 5000)
    assert onion_links(None, []).binding(True, 5000) == (None, 5000)


def test_the_node_hears_of_tor_only_when_what_it_hears_changes():
    key = OnionKey.generate()
    options = TorOptions(("127.0.0.1", 9050), "127.0.0.1:9051", 7447, key)
    told: list[TorChanged] = []
    links = onion_links(options, told)
    state = TorState.initial(options)
    links._changed(state)
    links._changed(state.change(connected=True, bootstrap=50))   # (the node hears the same: not told again)
    links._changed(state.change(connected=True, bootstrap=100, published=True))
    assert told == [TorChanged(True, None), TorChanged(True, f"{key.address}:7447")]


def test_without_tor_there_is_no_status_and_a_stalled_dial_asks_nothing():
    links = onion_links(None, [])
    assert links.status() is None and links.service is None and links.listen_port is None
    links.stalled(0.0)
