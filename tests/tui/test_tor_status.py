"""Pilot tests: the status line and the node screen say how this node is linked, honestly: "linked via
LAN", "linked via Tor (slow)", "unreachable" (research notes 2.2 and 5.3), from the peers the TUI already
has (the snapshot, then `peer` events) and the `status` answer's Tor map. A node where Tor plays no part
reads as before. Budget: about 2 s."""

from __future__ import annotations

from typing import Any

from meshcare.control import api
from meshcare.tui import format as fmt
from meshcare.tui.screens.node import NodeScreen
from meshcare.tui.widgets.status import StatusLine

from .fakedaemon import BEN, DAN, FakeState
from .harness import holds, run, running, screen_text, wait_for

ONION = "e" * 56 + ".onion:7447"


def tor_state() -> FakeState:
    state = FakeState()
    state.peers[ONION] = api.Peer(node_id=DAN, address=ONION, linked=True, via="onion")
    return state


def test_status_line_words_with_and_without_tor() -> None:
    assert fmt.status_line(2, ["caught_up"], "connected") == "● linked to 2 neighbours · caught up · daemon: connected"
    assert fmt.status_line(1, [], "connected", ways=(0, 1)) == \
        "● linked via Tor (slow) to 1 neighbour · daemon: connected"
    assert fmt.status_line(0, [], "connected", fmt.ASCII, ways=(0, 0)) == "o unreachable | daemon: connected"


def test_the_status_line_follows_the_links_through_lan_and_tor() -> None:
    async def scenario() -> None:
        async with running(tor_state(), size=(100, 30)) as (app, pilot, daemon):
            line = app.screen.query_one(StatusLine)
            await wait_for(pilot, lambda: "linked via LAN (1) and via Tor (1, slow)" in screen_text(app).splitlines()[0],
                           "both ways on the status line")
            daemon.push(api.PeerEvent(address="127.0.0.1:7448", node_id=BEN, linked=False))
            await wait_for(pilot, lambda: "linked via Tor (slow) to 1 neighbour" in screen_text(app).splitlines()[0],
                           "only Tor left")
            assert line.has_class("-via-tor") and not line.has_class("-not-linked")
            daemon.push(api.PeerEvent(address=ONION, node_id=DAN, linked=False))
            await wait_for(pilot, lambda: "○ unreachable" in screen_text(app).splitlines()[0], "unreachable")
            assert line.has_class("-not-linked") and not line.has_class("-via-tor")
            daemon.push(api.PeerEvent(address="127.0.0.1:40111", node_id=BEN, linked=True, via="onion"))
            await wait_for(pilot, lambda: "linked via Tor (slow) to 1 neighbour" in screen_text(app).splitlines()[0],
                           "a link accepted over Tor, told by the event's via")
    run(scenario)


def test_the_node_screen_shows_each_link_s_way_and_tor() -> None:
    async def scenario() -> None:
        async with running(tor_state()) as (app, pilot, daemon):
            tor = api.TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=100,
                                onion="f" * 56 + ".onion:7447", published=True, error=None)

            async def status(_r: Any) -> tuple[api.Result, list[api.Event]]:
                return api.StatusResult(node_id=daemon.state.node_id, name="Sam", listen="0.0.0.0:7447",
                                        uptime_s=4000.0, links=2, envelopes=42, topics=0, statistics={},
                                        tor=tor, links_direct=1, links_onion=1), []

            daemon.ops["status"] = status
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, NodeScreen), "node status")
            await holds(pilot, "Neighbours: linked via LAN (1) and via Tor (1, slow)")
            await holds(pilot, "● linked via LAN · 127.0.0.1:7448 · Ben Okafor")
            await holds(pilot, f"● linked via Tor (slow) · {ONION}")
            await holds(pilot, "up for 1 h · 2 links (1 direct, 1 via Tor) · 42 envelopes stored")
            await holds(pilot, "Tor: connected (/run/tor/control), ready (bootstrapped 100%)")
            await holds(pilot, "published: peers can reach this node through Tor")
    run(scenario)
