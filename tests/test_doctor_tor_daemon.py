"""The tor check and the TUI's words against real daemons and the fake tor (tests/fake_tor.py; no real tor,
every socket on 127.0.0.1): what `node.health` answers for a node published through Tor is judged "ok";
the daemon's peer events say a link runs through Tor; doctor's PROTOCOLINFO probe reads the fake tor's
answer as tor's (cookie readable, or a password-only tor). Budget: under 3 s."""

from __future__ import annotations

from pathlib import Path

import trio

from meshcare.control import api
from meshcare.control import reachability as reach
from meshcare.control.results_doctor import NodeHealthResult
from meshcare.doctor import probes, tor
from meshcare.doctor.findings import Level

from .fake_tor import fake_tor
from .helpers import wait_for
from .test_daemon_tor import onion, published, tor_daemon


async def test_health_of_a_published_node_is_ok_and_its_peer_events_say_via_onion(autojump_clock, tmp_path: Path):
    async with fake_tor(tmp_path) as fake, trio.open_nursery() as nursery:
        ann = tor_daemon("ann", fake)
        await nursery.start(ann.run)
        await wait_for(lambda: published(ann))
        events = ann.events.subscribe()
        bob = tor_daemon("bob", fake, [onion(ann)], service=False)      # a laptop: dials out only
        await nursery.start(bob.run)
        await wait_for(lambda: ann.links and bob.links)
        name, data = await events.receive()
        while name != "peer":
            name, data = await events.receive()
        event = api.PeerEvent.from_data(data)
        assert event.linked and event.via == "onion"

        health = NodeHealthResult.from_data(await ann.request("node.health", {}))
        assert health.tor is not None
        found = tor.judge_daemon_tor(health.tor, "ann")
        assert [f.level for f in found] == [Level.OK, Level.OK] and "is published" in found[1].what
        laptop = NodeHealthResult.from_data(await bob.request("node.health", {}))
        assert laptop.tor is not None
        assert [f.level for f in tor.judge_daemon_tor(laptop.tor, "bob")] == [Level.OK, Level.INFO]

        peers = api.PeersResult.from_data(await bob.request("peers", {})).peers
        assert reach.split_peers(peers) == (0, 1)
        nursery.cancel_scope.cancel()


async def test_the_probe_reads_the_fake_tors_protocolinfo(tmp_path: Path):
    async with fake_tor(tmp_path) as fake:
        found = await trio.to_thread.run_sync(probes.tor_control, fake.control, 3.0)
    assert found.reachable and "SAFECOOKIE" in found.methods and found.cookie_readable is True
    assert [f.level for f in tor.judge_probe(found, "ana")] == [Level.OK]
    async with fake_tor(tmp_path, auth="password") as fake:
        found = await trio.to_thread.run_sync(probes.tor_control, fake.control, 3.0)
    [f] = tor.judge_probe(found, "ana")
    assert f.level is Level.PROBLEM and "asks for a password" in f.what
