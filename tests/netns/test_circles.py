"""A circle between real ``meshcare daemon`` processes, one per network namespace (``-m netns``).

Four households on one bridge (``Mesh(4)``), started like ``test_mesh.py``'s (``Cluster``): real mDNS
discovery, no static peers, each daemon driven through its control socket. The daemons were initialised
with ``meshcare init --name n<i>``, and members are addressed by those names::

    h1 "n1"  founds "Elm St" (facilitator), invites the others; the "chosen" step of the ladder
    h2 "n2"  joins; posts the calls
    h3 "n3"  joins; offers, claims; later removed from the circle
    h4 "n4"  outside the circle while the first call runs; then joins, and is the member the
             escalating call reaches only at its second ladder step

One scenario, in this order (the escalation takes a minute of real time, so its call is posted as early
as the circle allows and the other checks run while it waits):

1. h1 creates the circle; h2 and h3 join by invite tokens (every member agrees on the roster).
2. h2 posts a call; h1, h2, h3 list it; h4, outside, has no circle, no topic and no envelope at all.
3. h4 joins. h2 posts the *escalating* call: ladder [now: chosen n1, after 1 min: the circle].
   Only h1 (and h2) can read it.
4. The first call's thread: h3 offers and claims, h2 accepts the offer and resolves; every change is
   seen by ``call.show`` on h1, h2 and h3.
5. h1 removes n3; h1, h2, h4 agree on the smaller roster; h2 posts a call; h1 lists it; h3 never does
   (checked after h1 has it plus a 2 s grace: the one fixed wait).
6. The escalation: nobody claims; h4 lists the call only once the caller's node escalates, 60 s after the
   call was made (not before); the caller's ``call.show`` says ``"step": 1``; h3 (removed) never sees it.

Run with ``-s`` to see the measured times. A failure's message carries the tail of every daemon's log and
its ``status``; ``MESHCARE_KEEP_NETNS_LOGS=1`` keeps the whole workdir.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .test_mesh import Cluster, linked_mesh

pytestmark = [pytest.mark.netns]

CIRCLE = "Elm St"
FOUNDER, CALLER, HELPER, OUTSIDER = 1, 2, 3, 4
ESCALATE_AFTER_S = 60      # the ladder's second step: "after": 1 (minutes)
GRACE_S = 2.0              # how long a removed member is given to (wrongly) receive a new call


def name(i: int) -> str:
    """The name host ``i``'s daemon was initialised with (``Cluster`` runs ``meshcare init --name n<i>``)."""
    return f"n{i}"


def report(text: str) -> None:
    print(f"\n[circles] {text}", flush=True)


# --- control requests ------------------------------------------------------------------------------


def circles(cluster: Cluster, i: int) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in cluster.request(i, "circle.list")["circles"]}


def is_member(cluster: Cluster, i: int) -> bool:
    return circles(cluster, i).get(CIRCLE, {}).get("status") == "member"


def members(cluster: Cluster, i: int) -> set[str]:
    return {m["name"] for m in cluster.request(i, "circle.members", circle=CIRCLE)["members"]}


def call_ids(cluster: Cluster, i: int) -> set[str]:
    """Every call host ``i`` can read, resolved ones included."""
    return {c["id"] for c in cluster.request(i, "calls.list", all=True)["calls"]}


def show(cluster: Cluster, i: int, call: str) -> dict[str, Any]:
    shown: dict[str, Any] = cluster.request(i, "call.show", call=call)["call"]
    return shown


def everywhere(cluster: Cluster, hosts: list[int], check: Callable[[int], bool], timeout: float, what: str) -> None:
    """Wait until ``check(i)`` holds on every host of ``hosts``."""
    cluster.wait(lambda: all(check(i) for i in hosts), timeout, what)


def join(cluster: Cluster, joiner: int, roster: set[int]) -> None:
    """The founder invites ``joiner``, who joins by the token; wait until it is a member and every host of
    ``roster`` (the circle's members afterwards) lists the same members."""
    invite = cluster.request(FOUNDER, "circle.invite", circle=CIRCLE)
    joined = cluster.request(joiner, "circle.join", token=invite["token"])
    assert joined["status"] == "waiting" and joined["name"] == CIRCLE, joined
    cluster.wait(lambda: is_member(cluster, joiner), 30, f"{name(joiner)} to be a member of {CIRCLE!r}")
    names = {name(i) for i in roster}
    everywhere(cluster, sorted(roster), lambda i: members(cluster, i) == names, 30,
               f"every member to list {sorted(names)}")


# --- the mesh --------------------------------------------------------------------------------------


@pytest.fixture
def households() -> Iterator[Cluster]:
    """Four namespaces on a bridge, a daemon in each, every daemon answering and the links connected."""
    with linked_mesh(4, "mcC", "the scenario") as cluster:
        yield cluster


# --- the scenario ----------------------------------------------------------------------------------


@pytest.mark.timeout(240)
def test_a_circle_of_daemons_invites_calls_removes_and_escalates(households: Cluster) -> None:
    cluster = households
    ids = cluster.node_ids
    t0 = time.monotonic()
    with cluster.explain():
        # 1. the circle: h1 founds it, h2 and h3 join by invite
        created = cluster.request(FOUNDER, "circle.create", name=CIRCLE)["circle"]
        assert created["status"] == "member" and created["role"] == "facilitator", created
        join(cluster, CALLER, {FOUNDER, CALLER})
        join(cluster, HELPER, {FOUNDER, CALLER, HELPER})
        formed = time.monotonic() - t0

        # 2. a call reaches every member; the outsider holds nothing of the circle
        first = cluster.request(CALLER, "call.create", circle=CIRCLE, text="Rough night, could someone come by?",
                                urgency="now")["call"]["id"]
        three = [FOUNDER, CALLER, HELPER]
        everywhere(cluster, three, lambda i: first in call_ids(cluster, i), 15, f"call {first[:8]} at h1, h2, h3")
        assert cluster.linked(OUTSIDER), "the outsider has no link: its silence would prove nothing"
        assert cluster.request(OUTSIDER, "circle.list") == {"circles": [], "joining": []}
        assert cluster.request(OUTSIDER, "calls.list", all=True)["calls"] == []
        status = cluster.request(OUTSIDER, "status")
        assert status["envelopes"] == 0 and status["topics"] == 0, status
        shared = {p["address"]: p["topics"] for p in cluster.request(OUTSIDER, "peers")["peers"] if p["linked"]}
        assert not any(shared.values()), f"the outsider shares topics with {shared}"

        # 3. h4 joins; the escalating call goes to the chosen n1 only, to the circle after a minute
        join(cluster, OUTSIDER, {FOUNDER, CALLER, HELPER, OUTSIDER})
        ladder = [{"after": 0, "to": "chosen", "members": [name(FOUNDER)]},
                  {"after": ESCALATE_AFTER_S // 60, "to": "circle", "members": []}]
        made = cluster.request(CALLER, "call.create", circle=CIRCLE, text="Could n1 call me? Anyone, if not.",
                               urgency="now", ladder=ladder)["call"]
        urgent, posted_at = made["id"], made["created"]
        assert made["step"] == 0 and made["audience"] == 1, made
        cluster.wait(lambda: urgent in call_ids(cluster, FOUNDER), 15, f"call {urgent[:8]} at the chosen h1")
        for i in (HELPER, OUTSIDER):
            assert urgent not in call_ids(cluster, i), f"h{i}, not chosen, reads call {urgent[:8]} before escalation"

        # 4. the first call's thread, seen by every member of it
        offer = cluster.request(HELPER, "call.offer", call=first, kind="come_over", text="10 minutes")["id"]
        everywhere(cluster, three, lambda i: offer in {o["id"] for o in show(cluster, i, first)["offers"]}, 15,
                   f"offer {offer[:8]} everywhere")
        cluster.request(HELPER, "call.claim", call=first)
        everywhere(cluster, three, lambda i: (c := show(cluster, i, first))["status"] == "claimed"
                   and c["claimer"] == ids[HELPER], 15, "the claim everywhere")
        cluster.request(CALLER, "call.accept", call=first, offer=offer)
        everywhere(cluster, three, lambda i: (c := show(cluster, i, first))["accepted"] == [offer]
                   and c["offers"][0]["accepted"] is True, 15, "the accepted offer everywhere")
        cluster.request(CALLER, "call.resolve", call=first)
        everywhere(cluster, three, lambda i: (c := show(cluster, i, first))["status"] == "resolved"
                   and c["resolved_by"] == ids[CALLER], 15, "the resolve everywhere")
        for i in three:
            c = show(cluster, i, first)
            assert (c["claimer"], c["accepted"], c["caller"]) == (ids[HELPER], [offer], ids[CALLER]), (i, c)
            assert first not in {x["id"] for x in cluster.request(i, "calls.list")["calls"]}, "resolved but listed"
        thread_done = time.monotonic() - t0

        # 5. h1 removes n3: the others agree, and what h2 posts next never reaches h3
        cluster.request(FOUNDER, "circle.remove", circle=CIRCLE, member=name(HELPER))
        remaining = {FOUNDER, CALLER, OUTSIDER}
        names = {name(i) for i in remaining}
        everywhere(cluster, sorted(remaining), lambda i: members(cluster, i) == names, 15,
                   f"h1, h2, h4 to list {sorted(names)} after the removal")
        assert circles(cluster, FOUNDER)[CIRCLE]["members"] == len(remaining)
        after = cluster.request(CALLER, "call.create", circle=CIRCLE, text="After n3 left: anyone around?",
                                urgency="today")["call"]["id"]
        cluster.wait(lambda: after in call_ids(cluster, FOUNDER), 15, f"call {after[:8]} at h1")
        time.sleep(GRACE_S)
        assert after not in call_ids(cluster, HELPER), f"the removed h3 reads call {after[:8]} posted after removal"
        removed_done = time.monotonic() - t0

        # 6. the escalation: nobody claims; h4 reads the call once the caller's node escalates, not before
        assert show(cluster, CALLER, urgent)["status"] == "open"
        assert urgent not in call_ids(cluster, OUTSIDER), "h4 reads the chosen-only call before it escalated"
        due = posted_at + ESCALATE_AFTER_S
        report(f"circle of 3 formed {formed:.1f} s, call thread done {thread_done:.1f} s, removal checked "
               f"{removed_done:.1f} s after the first request; escalation due in {due - time.time():.1f} s")
        cluster.wait(lambda: urgent in call_ids(cluster, OUTSIDER), max(0.0, due - time.time()) + 30,
                     f"h4 to read call {urgent[:8]} after its escalation (due at {due}, unix time)", interval=0.2)
        seen_at = time.time()
        assert seen_at >= due - 1, f"h4 read the call {due - seen_at:.1f} s before it was due to escalate"
        at_caller = show(cluster, CALLER, urgent)
        assert at_caller["step"] == 1 and at_caller["status"] == "open", at_caller
        at_outsider = show(cluster, OUTSIDER, urgent)
        assert at_outsider["step"] == 1 and at_outsider["text"] == "Could n1 call me? Anyone, if not.", at_outsider
        assert urgent not in call_ids(cluster, HELPER), "the removed h3 reads the escalated call"
        report(f"h4 read the escalated call {seen_at - due:.2f} s after it was due; "
               f"whole scenario {time.monotonic() - t0:.1f} s")
