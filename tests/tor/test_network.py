"""The private Tor network works on its own (no meshcare): an onion service published with ``ADD_ONION`` on
one gateway's tor answers through the other gateway's SOCKS port, and nothing tried to leave the test bed.

This is the test bed's own check, so a failure here says "the network", not "meshcare". Run with ``-s`` to
see the times.
"""

from __future__ import annotations

import pytest

from .network import SOCKS_PORT, TorNet
from .nsnet import EchoServer, probe_onion

pytestmark = [pytest.mark.tor, pytest.mark.timeout(240)]

ECHO_PORT = 7001   # the onion's virtual port (meshcare's is 7447)


def report(text: str) -> None:
    print(f"\n[tor smoke] {text}", flush=True)


def test_onion_echo_between_two_gateways(tor_net: TorNet) -> None:
    net = tor_net
    echo = EchoServer(net.client(1).ns, 0)
    try:
        with net.control(1) as service_side, net.control(2) as client_side, net.explain():
            service_side.command("SETEVENTS HS_DESC")
            onion = service_side.add_onion(ECHO_PORT, ("127.0.0.1", echo.port))
            service_side.wait_published(onion, timeout=60)
            probe = probe_onion(net.client(2).ns, SOCKS_PORT, onion, ECHO_PORT, control=client_side, echoes=20)
            rtts = sorted(probe.rtts_ms)
            report(f"{onion} reachable {probe.seconds:.2f} s after publication, failed attempts "
                   f"{probe.failures}; 20 echoes p50 {rtts[10]:.1f} ms, max {rtts[-1]:.1f} ms")
            assert len(probe.rtts_ms) == 20
    finally:
        echo.close()
    leaks = {ns: n for ns, n in net.leaks().items() if n}
    assert not leaks, f"packets tried to leave the test bed: {leaks}"


def test_the_audit_counts_what_tries_to_leave(tor_net: TorNet) -> None:
    """The leak audit is not vacuous: a datagram to an address outside the test bed, from a relay's
    namespace and from a plain LAN host's, is counted (and dropped) by that namespace's audit."""
    net = tor_net
    for ns in (net.tors["r1"].ns, net.ns(net.n)):
        assert net.canary(ns) == 1, f"the audit in {ns} did not count a packet to 198.18.0.1"
    leaks = {ns: n for ns, n in net.leaks().items() if n}
    assert not leaks, f"packets tried to leave the test bed: {leaks}"
