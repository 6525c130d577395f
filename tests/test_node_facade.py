"""The ``Node`` facade, pure: real circles between nodes joined only through ``handle`` /
``handle_deadline`` and their effects (``tests/nodenet.py``), in virtual time, without trio.

What the daemon used to wire by hand must now happen inside the node: joining through a lobby, calls
and receipts, claims, a removal that cuts the removed member off (and the leave rule that deletes
what it held), a restart that restores everything from the store, and duties isolated from each other.
"""

from __future__ import annotations

from meshcare.circles.duties import Duty
from meshcare.envelope import Envelope
from meshcare.ids import TopicId
from meshcare.ranges import KEY_MAX, KEY_MIN

from meshcare.node import DUTIES_PER_PASS
from meshcare.node_events import Effect, ExpireEnvelopes, Log, SaveState
from meshcare.ops import perform

from .nodenet import NodeNet

CIRCLE = "Elm St"


def members(net: NodeNet, name: str) -> set[str]:
    """Member names of the circle as ``name``'s node folds it (empty before its roster arrived)."""
    found = [c for c in net.nodes[name].registry.circles.values() if c.roster.name == CIRCLE]
    return {m.name for m in found[0].roster.members.values()} if found else set()


def call_ids(net: NodeNet, name: str, **args: object) -> list[str]:
    return [c["id"] for c in net.op(name, "calls.list", **args)["calls"]]


def circle_of(*names: str) -> NodeNet:
    """The first name founds the circle; each other joins by invite, linked only to the one before it."""
    net = NodeNet(*names)
    net.start(names[0])
    net.op(names[0], "circle.create", name=CIRCLE)
    for before, name in zip(names, names[1:]):
        net.start(name, [before])
        token = net.op(names[0], "circle.invite", circle=CIRCLE)["token"]
        assert net.op(name, "circle.join", token=token)["status"] == "waiting"
        net.run_until(lambda: all(members(net, n) == set(names[: names.index(name) + 1])
                                  for n in names[: names.index(name) + 1]))
    return net


def test_a_circle_runs_between_nodes_joined_only_through_the_facade() -> None:
    net = circle_of("ann", "bob", "cat")                 # cat reaches the circle only through bob
    topic = net.nodes["ann"].registry.find(CIRCLE).topic
    call = net.op("cat", "call.create", circle=CIRCLE, text="Rough night, could someone come by?")["call"]["id"]
    net.run_until(lambda: all(call in call_ids(net, n) for n in ("ann", "bob")))
    net.run_until(lambda: net.op("cat", "call.show", call=call)["call"]["reached"] == 2)   # receipts (duties)
    assert ("circle", {"circle": topic.hex(), "author": net.key("cat").hex(), "id": call, "roster": False}) \
        in net.events["ann"]
    assert net.nodes["cat"].state.seq[topic] >= 1            # counted (saved before any of it could go)

    assert net.op("bob", "call.claim", call=call)["have_it"] is True
    net.run_until(lambda: net.op("ann", "call.show", call=call)["call"]["claimer"] == net.key("bob").hex())

    net.op("ann", "circle.remove", circle=CIRCLE, member="cat")
    net.run_until(lambda: net.nodes["cat"].registry.find(CIRCLE).roster.role(net.key("cat")) is None)
    assert net.op("cat", "circle.list")["circles"][0]["status"] == "removed"
    net.run_until(lambda: topic not in net.nodes["bob"].engine.shared_topics(net.key("cat")))
    after = net.op("ann", "call.create", circle=CIRCLE, text="Is anyone free tonight?")["call"]["id"]
    net.run_until(lambda: after in call_ids(net, "bob"))
    net.run(30)
    assert not net.stores["cat"].has(bytes.fromhex(after))              # cut off: never even sent
    assert after not in call_ids(net, "cat", all=True)

    net.run(600)                                     # the retention sweep: the leave rule deletes the circle
    assert topic not in net.nodes["cat"].registry.circles and topic not in net.saved["cat"].circles
    assert net.stores["cat"].keys(topic, KEY_MIN, KEY_MAX, int(net.now)) == []
    assert net.op("bob", "call.show", call=after)["call"]["id"] == after       # the others go on
    assert not any(net.faults.values())


def test_a_restarted_node_restores_its_circles_from_the_store() -> None:
    net = circle_of("ann", "bob")
    stale = net.saved["bob"]                         # the state file as it was before the call
    call = net.op("bob", "call.create", circle=CIRCLE, text="could someone call me")["call"]["id"]
    net.run_until(lambda: call in call_ids(net, "ann"))
    net.op("ann", "call.claim", call=call)
    net.run_until(lambda: net.op("bob", "call.show", call=call)["call"]["claimer"] == net.key("ann").hex())
    old = net.nodes["bob"]

    net.saved["bob"] = stale                         # a crash right after publishing, before saving
    net.restart("bob", ["ann"])                      # nothing from the network yet: all from the store
    assert net.nodes["bob"] is not old
    shown = net.op("bob", "call.show", call=call)["call"]
    assert shown["claimer"] == net.key("ann").hex() and shown["mine"] is True
    assert net.op("bob", "circle.list")["circles"][0]["status"] == "member"
    topic = net.nodes["bob"].registry.find(CIRCLE).topic
    assert net.nodes["bob"].state.seq[topic] > stale.seq.get(topic, 0)    # past what the store holds of ours

    update = net.op("bob", "call.update", call=call, text="thank you, feeling better")["id"]
    net.run_until(lambda: any(u["id"] == update for u in net.op("ann", "call.show", call=call)["call"]["updates"]))
    assert not any(net.faults.values())


def test_a_fault_in_one_duty_postpones_that_duty_only_and_comes_out_as_a_fault() -> None:
    net = circle_of("ann", "bob")
    ann = net.nodes["ann"]
    real = ann.duties.carry_out
    broken: list[bytes] = []
    attempts: list[float] = []

    def carry_out(duty: Duty, now: int) -> list[tuple[TopicId, Envelope]]:
        if duty.kind == "receipt" and duty.subject in broken:
            attempts.append(net.now)
            raise RuntimeError("injected duty fault")
        return real(duty, now)
    ann.duties.carry_out = carry_out  # type: ignore[method-assign]  # the injected bug

    first = net.op("bob", "call.create", circle=CIRCLE, text="first")["call"]["id"]
    broken.append(bytes.fromhex(first))
    second = net.op("bob", "call.create", circle=CIRCLE, text="second")["call"]["id"]
    net.run(20)
    assert net.op("bob", "call.show", call=second)["call"]["reached"] == 1      # the other duty went on
    assert net.op("bob", "call.show", call=first)["call"]["reached"] == 0
    faults = net.faults["ann"]
    assert faults and all(f.where == "the receipt duty" and str(f.exception) == "injected duty fault"
                          for f in faults)
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert 3 <= len(attempts) <= 6 and gaps == sorted(gaps) and gaps[0] >= 1.0     # 1 s, doubling

    ann.duties.carry_out = real  # type: ignore[method-assign]  # the bug is fixed: the duty is done
    net.run(40)
    assert net.op("bob", "call.show", call=first)["call"]["reached"] == 1
    assert len(net.faults["ann"]) == len(attempts)



def test_posts_do_not_rewrite_the_state_file_but_it_is_saved_before_any_own_envelope_expires() -> None:
    """The store keeps this node's own envelopes, and the next seq continues after them; the state file
    is rewritten only when one of them could leave the store. Across a restart after the expiry, no
    seq is used twice (another node would take the second envelope for equivocation)."""
    net = NodeNet("ann", "bob")
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE, retention_days=1)
    net.start("bob", ["ann"])
    token = net.op("ann", "circle.invite", circle=CIRCLE)["token"]
    net.op("bob", "circle.join", token=token)
    net.run_until(lambda: members(net, "ann") == members(net, "bob") == {"ann", "bob"})
    topic = net.nodes["ann"].registry.find(CIRCLE).topic
    net.run(700)                                     # a sweep with nothing new to count
    saved_before = net.saved["ann"].seq.get(topic, 0)

    result, effects = perform(net.ops, "call.create", net.nodes["ann"],
                              {"circle": CIRCLE, "text": "could someone call me"}, net.now)
    net.apply("ann", effects)
    assert not any(isinstance(e, SaveState) for e in effects)          # no rewrite per post
    used = net.nodes["ann"].state.seq[topic]
    assert used > saved_before and net.saved["ann"].seq.get(topic, 0) == saved_before

    start = len(net.applied["ann"])
    net.run(2 * 86_400)                              # the call expires and the sweep deletes it
    kinds = [k for k in net.applied["ann"][start:] if k in (SaveState, ExpireEnvelopes)]
    assert kinds[:2] == [SaveState, ExpireEnvelopes]                 # counted before anything is deleted
    assert not net.stores["ann"].has(bytes.fromhex(result["call"]["id"]))
    assert net.saved["ann"].seq[topic] >= used

    net.restart("ann", ["bob"])
    again = net.op("ann", "call.create", circle=CIRCLE, text="and again tonight")["call"]["id"]
    assert net.nodes["ann"].state.seq[topic] > used
    net.run_until(lambda: again in call_ids(net, "bob"))
    assert not net.nodes["bob"].registry.circles[topic].equivocations
    assert not any(net.faults.values())


def test_a_burst_of_calls_is_receipted_a_few_at_a_time_so_links_get_their_turn_between() -> None:
    """Receipts for 30 calls that arrive at once: each handle_deadline carries out at most
    DUTIES_PER_PASS of them (the shell serves links and clients between passes), and all go out."""
    net = circle_of("ann", "bob")
    ann = net.nodes["ann"]
    per_pass: list[int] = []
    real = ann.handle_deadline

    def counted(now: float) -> list[Effect]:
        effects = real(now)
        per_pass.append(sum(1 for e in effects if isinstance(e, Log) and e.message.startswith("receipt in")))
        return effects
    ann.handle_deadline = counted  # type: ignore[method-assign]  # a counting wrapper around the real method
    calls = [net.op("bob", "call.create", circle=CIRCLE, text=f"call {i}")["call"]["id"] for i in range(30)]
    net.run_until(lambda: all(c["reached"] == 1 for c in net.op("bob", "calls.list")["calls"]))
    assert sum(per_pass) == len(calls)
    assert max(per_pass) <= DUTIES_PER_PASS < len(calls)
    assert not any(net.faults.values())
