"""The ``tor`` marker, and the one private Tor network every test of this package shares (per session).

Building the network (authority keys, a consensus, two bootstrapped client tors) is most of the cost, so
it is built once: ``tests/conftest.py`` keeps every test of this package on one pytest-xdist worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .network import TorNet, require_tor


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "tor: runs a private Tor network (TestingTorNetwork) in network namespaces "
                   "(needs root, iproute2, nftables, tor, tor-gencert)")
    # test_two_lans.py runs its daemons with tests/netns/test_mesh.Cluster, whose module is marked netns;
    # registered here too so that running tests/tor alone does not warn about an unknown mark
    config.addinivalue_line(
        "markers", "netns: runs real processes in Linux network namespaces (needs root, iproute2, nftables)")


@pytest.fixture(scope="session")
def tor_net() -> Iterator[TorNet]:
    """Two gateways, each with a LAN of three hosts (the gateway and two more), on a private Tor network."""
    require_tor()
    with TorNet(lans=(3, 3), prefix="mt") as net:
        print(f"\n[tor] network up in {net.timings['bring_up_s']:.1f} s: {net.timings}", flush=True)
        yield net
        leaks = {ns: n for ns, n in net.leaks().items() if n}
        assert not leaks, f"packets tried to leave the test bed: {leaks}"
