"""Daemons linked through Tor onion services, in one trio run, with the fake tor (tests/fake_tor.py): no real
tor, every socket on 127.0.0.1. The daemons here have no direct address of each other: what links them is
the fake's SOCKS port resolving their onion addresses to their onion listeners."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from pathlib import Path

import trio

from meshcare.crypto.keys import Identity
from meshcare.crypto.onion_key import OnionKey
from meshcare.node_events import PeerDiscovered
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon
from meshcare.transport.tor.tor_state import TorOptions

from .fake_tor import FakeTor, fake_tor
from .helpers import member_names, wait_for

ONION_PORT = 7447


class OnionOnly(Daemon):
    """A daemon whose invites name no direct address (as one listening on every interface): the joiner can
    only reach it through its onion."""

    def _hints(self) -> list[str]:
        return []


def tor_daemon(name: str, tor: FakeTor, peers: Sequence[tuple[str, int]] = (), *, service: bool = True) -> Daemon:
    """A daemon on 127.0.0.1 using the fake tor; its onion service on ``ONION_PORT`` unless ``service`` is off."""
    options = TorOptions(socks=tor.socks, control=tor.control, onion_port=ONION_PORT,
                         key=OnionKey.generate() if service else None)
    return OnionOnly(Identity.generate(name), MemoryStore(), listen=("127.0.0.1", 0), peers=list(peers), tor=options)


def onion(d: Daemon) -> tuple[str, int]:
    assert d.tor is not None and d.tor.key is not None
    return d.tor.key.address, ONION_PORT


def published(d: Daemon) -> bool:
    return d.onion_service is not None and d.onion_service.state.published


async def start_published(nursery: trio.Nursery, name: str, tor: FakeTor,
                          peers: Sequence[tuple[str, int]] = ()) -> Daemon:
    """A ``tor_daemon`` started in ``nursery``, returned once its onion service is published (so that peers
    can dial it)."""
    daemon = tor_daemon(name, tor, peers)
    await nursery.start(daemon.run)
    await wait_for(lambda: published(daemon))
    return daemon


async def test_three_daemons_linked_only_through_onions_share_a_circle_call(autojump_clock, tmp_path: Path):
    async with fake_tor(tmp_path) as tor, trio.open_nursery() as nursery:
        ann = await start_published(nursery, "ann", tor)
        assert ann.node.tor.onion == "%s:%d" % onion(ann) and ann.node.tor.dial
        await ann.request("circle.create", {"name": "Elm St"})
        bob = tor_daemon("bob", tor, [onion(ann)])
        await nursery.start(bob.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await bob.request("circle.join", {"token": token})
        await wait_for(lambda: member_names(bob, "Elm St") == {"ann", "bob"})
        await wait_for(lambda: published(bob))
        cat = tor_daemon("cat", tor, [onion(bob)])              # reaches the circle only through bob's onion
        await nursery.start(cat.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await cat.request("circle.join", {"token": token})
        await wait_for(lambda: all(member_names(d, "Elm St") == {"ann", "bob", "cat"} for d in (ann, bob, cat)))
        made = await cat.request("call.create", {"circle": "Elm St", "text": "Could someone come by?"})
        call = made["call"]["id"]
        await wait_for(lambda: all(call in [c["id"] for c in d.perform("calls.list", {})["calls"]] for d in (ann, bob)))
        for d in (ann, bob, cat):
            assert d.links and all(link.via == "onion" for link in d.links.values())
        # bob accepted cat's link over Tor: he shows it as cat's onion address, which cat's binding proved
        (shown,) = [link.address for link in bob.links.values() if link.node_id == cat.identity.node_id]
        assert shown == onion(cat)
        status = await bob.request("status", {})
        assert status["links_onion"] == len(bob.links) and status["links_direct"] == 0
        assert status["tor"] == {"control": tor.control, "socks": "%s:%d" % tor.socks, "connected": True,
                                 "bootstrap": 100, "onion": "%s:%d" % onion(bob), "published": True, "error": None}
        peers = (await bob.request("peers", {}))["peers"]
        assert {p["via"] for p in peers if p["linked"]} == {"onion"}
        health = await bob.request("node.health", {})
        assert health["tor"]["published"] is True
        nursery.cancel_scope.cancel()


async def test_a_direct_link_replaces_the_onion_link_and_never_the_reverse(autojump_clock, tmp_path: Path):
    async with fake_tor(tmp_path) as tor, trio.open_nursery() as nursery:
        ann = await start_published(nursery, "ann", tor)
        bob = await start_published(nursery, "bob", tor, [onion(ann)])
        node_a, node_b = ann.identity.node_id, bob.identity.node_id
        await wait_for(lambda: node_a in bob.links and node_b in ann.links)
        assert bob.links[node_a].via == "onion" and ann.links[node_b].via == "onion"
        bob._event(PeerDiscovered(("127.0.0.1", ann.port), "lan"))     # mDNS finds ann on the LAN
        await wait_for(lambda: node_a in bob.links and bob.links[node_a].via == "direct"
                       and node_b in ann.links and ann.links[node_b].via == "direct")
        direct = bob.links[node_a]
        nursery.start_soon(ann.dial, onion(bob))                       # an onion dial now is refused
        await wait_for(lambda: any(r.host == onion(bob)[0] and r.reply == 0 for r in tor.socks_requests))
        await trio.sleep(5)
        assert bob.links[node_a] is direct and ann.links[node_b].via == "direct"
        nursery.cancel_scope.cancel()


async def test_a_restarted_tor_unpublishes_and_the_service_comes_back_by_itself(autojump_clock, tmp_path: Path):
    async with fake_tor(tmp_path) as tor, trio.open_nursery() as nursery:
        ann = await start_published(nursery, "ann", tor)
        service = ann.onion_service
        assert service is not None and service.connects == 1
        told = ann.node.tor.onion
        await tor.restart()
        await wait_for(lambda: not published(ann))
        assert ann.node.tor.onion is None                  # the node heard it is not reachable now
        await wait_for(lambda: published(ann) and tor.published(onion(ann)[0]))
        assert service.connects >= 2 and ann.node.tor.onion == told
        nursery.cancel_scope.cancel()


async def test_a_control_port_nobody_answers_keeps_the_daemon_running_and_says_why(autojump_clock):
    with socket.socket() as sock:               # a port that was free: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = TorOptions(socks=("127.0.0.1", port), control=f"127.0.0.1:{port}", onion_port=ONION_PORT,
                         key=OnionKey.generate())
    async with trio.open_nursery() as nursery:
        ann = Daemon(Identity.generate("ann"), MemoryStore(), listen=("127.0.0.1", 0), tor=options)
        await nursery.start(ann.run)
        await wait_for(lambda: ann.onion_service is not None and "cannot reach" in (ann.onion_service.state.error or ""))
        status = await ann.request("status", {})
        assert status["tor"]["connected"] is False and status["tor"]["published"] is False
        assert "cannot reach tor's control port" in status["tor"]["error"]
        await ann.request("circle.create", {"name": "Elm St"})          # the node works on without tor
        nursery.cancel_scope.cancel()


async def test_an_onion_dial_error_is_a_readable_link_closed_and_a_newnym(autojump_clock, tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="meshcare.daemon")
    nowhere = (OnionKey.generate().address, ONION_PORT)                  # published by nobody
    async with fake_tor(tmp_path) as tor, trio.open_nursery() as nursery:
        bob = tor_daemon("bob", tor, [nowhere])
        await nursery.start(bob.run)
        await wait_for(lambda: tor.newnym_count >= 1)
        assert "descriptor was not found" in caplog.text and "through tor" in caplog.text
        usernames = {r.username for r in tor.socks_requests}
        await wait_for(lambda: len(tor.socks_requests) >= 2)      # redialled after its backoff: fresh circuits
        assert len({r.username for r in tor.socks_requests}) == len(tor.socks_requests) and usernames
        nursery.cancel_scope.cancel()


async def test_a_node_without_tor_answers_an_onion_connect_at_once(autojump_clock, caplog):
    caplog.set_level(logging.INFO, logger="meshcare.daemon")
    nowhere = (OnionKey.generate().address, ONION_PORT)
    async with trio.open_nursery() as nursery:
        ann = Daemon(Identity.generate("ann"), MemoryStore(), listen=("127.0.0.1", 0), peers=[nowhere])
        await nursery.start(ann.run)
        await wait_for(lambda: "this node does not use Tor (start it with --tor)" in caplog.text)
        assert ann.onion_service is None and (await ann.request("status", {}))["tor"] is None
        nursery.cancel_scope.cancel()


async def test_dial_out_only_watches_tor_publishes_nothing_and_still_links(autojump_clock, tmp_path: Path):
    async with fake_tor(tmp_path) as tor, trio.open_nursery() as nursery:
        ann = await start_published(nursery, "ann", tor)
        bob = tor_daemon("bob", tor, [onion(ann)], service=False)
        await nursery.start(bob.run)
        await wait_for(lambda: bob.onion_service is not None and bob.onion_service.state.connected)
        assert bob.onion_listen_port is None and list(tor.services) == [onion(ann)[0].removesuffix(".onion")]
        assert bob.node.tor.dial and bob.node.tor.onion is None
        assert (await bob.request("status", {}))["tor"]["onion"] is None
        await wait_for(lambda: bob.identity.node_id in ann.links)
        link = ann.links[bob.identity.node_id]          # bob has no onion: ann cannot tell where he is
        assert link.via == "onion" and link.address == ("127.0.0.1", 0)
        nursery.cancel_scope.cancel()


async def test_serve_with_tor_keeps_its_onion_key_and_publishes(autojump_clock, tmp_path: Path):
    from meshcare.config import Settings
    from meshcare.transport.service import serve

    async with fake_tor(tmp_path / "tor") as tor, trio.open_nursery() as nursery:
        settings = Settings(home=tmp_path / "h", listen=("127.0.0.1", 0), discovery=False, tor=True,
                            tor_socks=tor.socks, tor_control=tor.control)
        daemon = await nursery.start(serve, settings, Identity.generate("ann"))
        await wait_for(lambda: published(daemon))
        key_file = settings.home / "onion.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        address = daemon.tor.key.address
        nursery.cancel_scope.cancel()
    async with fake_tor(tmp_path / "tor2") as tor, trio.open_nursery() as nursery:   # the same address next time
        settings = settings.replace(tor_socks=tor.socks, tor_control=tor.control)
        daemon = await nursery.start(serve, settings, Identity.generate("ann"))
        assert daemon.tor.key.address == address
        nursery.cancel_scope.cancel()
