"""Two neighbourhoods joined only by Tor share one circle: real daemons, real mDNS, a private Tor network.

The session's ``TorNet(lans=(3, 3))``: LAN 1 (192.0.2.0/24) holds gateway A (h1) and h2, h3; LAN 2
(203.0.113.0/24) holds gateway B (h4) and h5, h6. Every host runs ``meshcare daemon`` with mDNS on its LAN
only; the gateways also sit on the tor bridge with a client tor and run with
``--tor --tor-socks 127.0.0.1:9050 --tor-control 127.0.0.1:9051``, so each publishes its own onion service
over the control port. IP forwarding is off everywhere: the LANs have no route to each other but Tor.

One scenario, in order (names as ``meshcare init --name n<i>``)::

    1. every daemon answers, each LAN is linked by mDNS, both gateways' onions are published
    2. n1 founds the circle; n2, n3 join by invite on LAN 1
    3. n4 joins from LAN 2 by an invite whose only reachable hint is n1's onion; then n5, n6
       (their requests travel through n4); everyone agrees on the roster; the link n1-n4 is "onion" and no
       other link crosses the LANs; the roster tells n5 n1's onion address (the ``reach`` op)
    4. a call posted by n2 (LAN 1) reaches n4, n5, n6; n5 offers and claims; n2 sees both
    5. gateway B's tor is killed (SIGKILL): the onion link drops; tor is started again: the link comes back by
       itself, h4 publishes the same onion again, and a call from n6 reaches n2
    6. n1 removes n4: n4 hears of it over Tor, and a call posted afterwards never reaches it, though
       its onion link may live on (the report says whether it did)
    7. nothing tried to leave the test bed (every namespace's audit counter is 0)

Run with ``-s`` to see the times. A failure carries every daemon's log tail and every tor's.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.netns.test_mesh import Cluster

from .network import CONTROL_PORT, SOCKS_PORT, TorNet

pytestmark = [pytest.mark.tor]

CIRCLE = "Across Town"
A, A2, A3 = 1, 2, 3            # gateway A and its LAN
B, B2, B3 = 4, 5, 6            # gateway B and its LAN
LAN_A, LAN_B = [A, A2, A3], [B, B2, B3]
EVERYONE = LAN_A + LAN_B
GRACE_S = 3.0                  # how long a removed member is given to (wrongly) receive a new call
TOR_ARGS = ["--tor", "--tor-socks", f"127.0.0.1:{SOCKS_PORT}", "--tor-control", f"127.0.0.1:{CONTROL_PORT}"]


def report(text: str) -> None:
    print(f"\n[tor e2e] {text}", flush=True)


def name(i: int) -> str:
    return f"n{i}"


# --- control requests ------------------------------------------------------------------------------


def tor_status(cluster: Cluster, i: int) -> dict[str, Any]:
    tor: dict[str, Any] | None = cluster.request(i, "status")["tor"]
    assert tor is not None, f"h{i} runs without tor"
    return tor


def published(cluster: Cluster, i: int) -> str | None:
    """Host ``i``'s onion "xxx.onion:PORT" once its daemon says the service is published."""
    tor = tor_status(cluster, i)
    return tor["onion"] if tor["published"] and tor["onion"] else None


def links(cluster: Cluster, i: int) -> dict[int, str]:
    """Host ``i``'s linked peers (by host number) and how each link runs ("direct" or "onion")."""
    rows = cluster.request(i, "peers")["peers"]
    return {cluster.host_of.get(p["node_id"], 0): p.get("via", "direct") for p in rows if p["linked"]}


def is_member(cluster: Cluster, i: int) -> bool:
    return any(c["name"] == CIRCLE and c["status"] == "member"
               for c in cluster.request(i, "circle.list")["circles"])


def members(cluster: Cluster, i: int) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in cluster.request(i, "circle.members", circle=CIRCLE)["members"]}


def call_ids(cluster: Cluster, i: int) -> set[str]:
    return {c["id"] for c in cluster.request(i, "calls.list", all=True)["calls"]}


def show(cluster: Cluster, i: int, call: str) -> dict[str, Any]:
    shown: dict[str, Any] = cluster.request(i, "call.show", call=call)["call"]
    return shown


def everywhere(cluster: Cluster, hosts: list[int], check: Any, timeout: float, what: str) -> None:
    cluster.wait(lambda: all(check(i) for i in hosts), timeout, what, interval=0.1)


def join(cluster: Cluster, joiner: int, timeout: float = 60.0) -> float:
    """The founder invites ``joiner``, who joins by the token; return how long until it was a member."""
    token = cluster.request(A, "circle.invite", circle=CIRCLE)["token"]
    t0 = time.monotonic()
    joined = cluster.request(joiner, "circle.join", token=token)
    assert joined["status"] == "waiting", joined
    cluster.wait(lambda: is_member(cluster, joiner), timeout, f"{name(joiner)} to become a member", interval=0.1)
    return time.monotonic() - t0


# --- the daemons -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def neighbourhoods(tor_net: TorNet) -> Iterator[Cluster]:
    """A daemon on every host of the two LANs (the gateways with tor), all answering."""
    net = tor_net
    cluster = Cluster(net)  # type: ignore[arg-type]  # TorNet offers the part of Mesh that Cluster uses
    for g in (1, 2):
        cluster.extra_args[net.gateway_host(g)] = TOR_ARGS
    cluster.start()
    try:
        cluster.wait_ready(timeout=60)
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.timeout(360)
def test_two_lans_share_a_circle_only_through_tor(tor_net: TorNet, neighbourhoods: Cluster) -> None:
    net, cluster = tor_net, neighbourhoods
    ids = cluster.node_ids
    assert set(net.forwarding().values()) == {"0"}, "IP forwarding must be off in every namespace"
    t0 = time.monotonic()
    with cluster.explain(), net.explain():
        # 1. each LAN linked by mDNS; both onions published (meshcare's own ADD_ONION over the control port)
        for lan in (LAN_A, LAN_B):
            everywhere(cluster, lan, lambda i, lan=lan: set(lan) - {i} <= set(links(cluster, i)), 45,
                       f"hosts {lan} linked by mDNS")
        onions = {}
        for gateway in (A, B):
            onions[gateway] = cluster.wait(lambda g=gateway: published(cluster, g), 90,
                                           f"h{gateway}'s onion service to be published")
            assert onions[gateway].endswith(".onion:7447"), onions[gateway]
        ready = time.monotonic() - t0

        # 2. the circle on LAN 1
        assert cluster.request(A, "circle.create", name=CIRCLE)["circle"]["status"] == "member"
        for i in (A2, A3):
            join(cluster, i)

        # 3. LAN 2 joins across Tor: n4 by n1's onion hint, then n5 and n6 through n4
        over_tor = join(cluster, B, timeout=120)
        for i in (B2, B3):
            join(cluster, i, timeout=60)
        names = {name(i) for i in EVERYONE}
        everywhere(cluster, EVERYONE, lambda i: set(members(cluster, i)) == names, 60,
                   f"every member to list {sorted(names)}")
        joined = time.monotonic() - t0
        assert links(cluster, A).get(B) == "onion" and links(cluster, B).get(A) == "onion", \
            f"the gateways' link is not via onion: {links(cluster, A)} / {links(cluster, B)}"
        for lan, other in ((LAN_A, LAN_B), (LAN_B, LAN_A)):
            for i in lan:
                crossing = {j: via for j, via in links(cluster, i).items() if j in other}
                allowed = {B: "onion"} if i == A else {A: "onion"} if i == B else {}
                assert crossing == allowed, f"h{i} has links across the LANs other than the onion one: {crossing}"
        everywhere(cluster, [B2], lambda i: members(cluster, i)[name(A)].get("onion") == onions[A], 60,
                   "n5 to learn n1's onion address from the roster")
        assert members(cluster, B2)[name(B2)].get("onion") is None, "n5 has no tor, yet the roster gives it an onion"

        # 4. a call from LAN 1 reaches LAN 2; an offer and a claim come back
        t_call = time.monotonic()
        call = cluster.request(A2, "call.create", circle=CIRCLE, text="Could someone across town call me?",
                               urgency="now")["call"]["id"]
        everywhere(cluster, LAN_B, lambda i: call in call_ids(cluster, i), 30, f"call {call[:8]} on LAN 2")
        delivered = time.monotonic() - t_call
        offer = cluster.request(B2, "call.offer", call=call, kind="come_over", text="on my way")["id"]
        cluster.request(B2, "call.claim", call=call)
        cluster.wait(lambda: (c := show(cluster, A2, call))["status"] == "claimed" and c["claimer"] == ids[B2]
                     and offer in {o["id"] for o in c["offers"]}, 30, "n5's offer and claim back at n2")
        answered = time.monotonic() - t_call

        # 5. gateway B's tor dies: the onion link drops; tor comes back at once (an upgrade, say), before
        #    gateway A has necessarily noticed: the link comes back by itself, and carries calls again
        t_kill = time.monotonic()
        net.stop_tor(net.client(2), signal.SIGKILL)      # no goodbye to its circuits: the kernel closes its sockets
        cluster.wait(lambda: A not in links(cluster, B), 30, "gateway B to see its onion link end with its tor")
        dropped = time.monotonic() - t_kill
        cluster.wait(lambda: not tor_status(cluster, B)["connected"], 30, "h4 to notice its tor is gone")
        t_back = time.monotonic()
        net.restart_client(2)
        cluster.wait(lambda: links(cluster, A).get(B) == "onion" and links(cluster, B).get(A) == "onion", 150,
                     "the onion link between the gateways to come back by itself")
        relinked = time.monotonic() - t_back
        cluster.wait(lambda: published(cluster, B) == onions[B], 90, "h4's onion to be published again")
        again = cluster.request(B3, "call.create", circle=CIRCLE, text="Back online: anyone free tonight?",
                                urgency="today")["call"]["id"]
        cluster.wait(lambda: again in call_ids(cluster, A2), 30, f"call {again[:8]} from n6 at n2 after the restart")

        # 6. n4 is removed: its onion link carries nothing of the circle any more
        cluster.request(A, "circle.remove", circle=CIRCLE, member=name(B))
        remaining = {name(i) for i in EVERYONE if i != B}
        everywhere(cluster, LAN_A, lambda i: set(members(cluster, i)) == remaining, 30,
                   "LAN 1 to list the circle without n4")
        after = cluster.request(A2, "call.create", circle=CIRCLE, text="After n4 left: anyone near?",
                                urgency="today")["call"]["id"]
        everywhere(cluster, [A, A3], lambda i: after in call_ids(cluster, i), 30, f"call {after[:8]} on LAN 1")
        cluster.wait(lambda: any(c["name"] == CIRCLE and c["status"] == "removed"
                                 for c in cluster.request(B, "circle.list")["circles"]), 60,
                     "n4 to learn (over Tor) that it was removed")
        time.sleep(GRACE_S)
        assert after not in call_ids(cluster, B), f"the removed n4 reads call {after[:8]} posted after removal"
        still_linked = links(cluster, A).get(B)

        # 7. the audit
        leaks = {ns: n for ns, n in net.leaks().items() if n}
        assert not leaks, f"packets tried to leave the test bed: {leaks}"
    report(f"ready (mDNS + both onions published) {ready:.1f} s; n4 joined over Tor in {over_tor:.1f} s, "
           f"all 6 members {joined:.1f} s; call to LAN 2 {delivered:.2f} s, claim back {answered:.2f} s; "
           f"link dropped {dropped:.1f} s after tor was killed, back {relinked:.1f} s after its restart; "
           f"after the removal the gateways' link is {still_linked or 'closed'}; "
           f"whole scenario {time.monotonic() - t0:.1f} s")
