"""A person renames themself: the ``rename`` roster operation, its fold and its bounds, the keystore,
the ``node.rename`` op on real daemons (the other side sees the new name, a ``member`` event says
``renamed``), and ``meshcare name``.

The fold tests build ``RosterOp`` values with test_membership's ``Chain``/``Ops`` (fast enough for
hypothesis); the verdict test goes through real envelopes (``Real``).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import cli
from meshcare.circles import membership as ms
from meshcare.circles import roster_body as rb
from meshcare.circles.circle import Verdict
from meshcare.crypto import keystore
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, RemoteProtocolError
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon

from .helpers import DaemonProcess, examples, member_names, wait_for
from .test_membership import A, B, C, D, F, T, Chain, Real, fold, keys, mid

# ---------------------------------------------------------------------------------------------------
# validation


def test_a_rename_carries_a_name_and_nothing_else() -> None:
    kind, body = rb.validate({"k": "rename", "parents": [mid(1)], "name": "Ana (3rd floor)"})
    assert kind == "rename" and body["name"] == "Ana (3rd floor)"


@pytest.mark.parametrize("body", [
    {"k": "rename", "parents": [mid(1)]},                                   # no name
    {"k": "rename", "parents": [mid(1)], "name": ""},                       # empty
    {"k": "rename", "parents": [mid(1)], "name": "x" * 65},                 # too long
    {"k": "rename", "parents": [mid(1)], "name": "Ana\x1b[2J"},             # a terminal escape
    {"k": "rename", "parents": [mid(1)], "name": "Ana\u202e"},              # a bidi override
    {"k": "rename", "parents": [mid(1)], "name": 7},
    {"k": "rename", "parents": [mid(1)], "name": "Ana", "member": A},       # renaming someone else
    {"k": "rename", "name": "Ana"},                                         # no parents
])
def test_a_malformed_rename_is_the_peers_fault(body: dict[str, Any]) -> None:
    with pytest.raises(RemoteProtocolError):
        rb.validate(body)


def test_names_that_only_differ_in_case_width_or_spacing_are_one_name() -> None:
    assert ms.name_key("Ana  Lopez") == ms.name_key("ana lopez") == ms.name_key("ＡＮＡ Lopez")
    assert ms.name_key("Ana") != ms.name_key("Anna")


# ---------------------------------------------------------------------------------------------------
# the fold


def test_the_last_rename_in_the_order_wins_and_history_names_follow() -> None:
    ch = Chain().members(A, B)
    ch.add("rename", A, name="Ana")
    ch.add("rename", A, name="Ana M.")
    r = ch.roster
    assert r.members[A].name == "Ana M." and r.renames[A] == 2 and r.members[B].name == "B"
    assert ms.names_ever(r, {op.id: op for op in ch.log})[A] == "Ana M."


def test_a_relay_may_rename_itself_and_a_rename_keeps_role_and_seniority() -> None:
    ch = Chain().members(A)
    ch.admit(D, role="relay")
    before = ch.roster.members[D]
    ch.add("rename", D, name="hallway Pi")
    after = ch.roster.members[D]
    assert after.name == "hallway Pi" and (after.role, after.order, after.admitted) == ("relay", before.order,
                                                                                      before.admitted)


@pytest.mark.parametrize("name", ["B", "b", " B ", "Ｂ", "F"])
def test_a_rename_to_a_name_someone_else_has_does_not_count(name: str) -> None:
    ch = Chain().members(A, B)
    op = ch.add("rename", A, name=name)
    assert ch.roster.ignored[op.id] == "someone else in the circle has or had that name"
    assert ch.roster.members[A].name == "A"


def test_a_rename_to_a_name_a_departed_member_had_does_not_count_but_ones_own_old_name_does() -> None:
    ch = Chain().members(A, B, C)
    ch.add("rename", C, name="Cat")
    ch.add("leave", C, last_seq=2)
    taken = ch.add("rename", A, name="cat")          # impersonating someone who left: no
    back = [ch.add("rename", A, name="Ana"), ch.add("rename", A, name="A")]   # back to A's own first name: yes
    r = ch.roster
    assert taken.id in r.ignored and not set(op.id for op in back) & set(r.ignored)
    assert r.members[A].name == "A"


def test_renames_past_the_bound_do_not_count() -> None:
    ch = Chain().members(A)
    for i in range(ms.MAX_RENAMES):
        ch.add("rename", A, name=f"A{i}")
    one_more = ch.add("rename", A, name="A again")
    r = ch.roster
    assert r.renames[A] == ms.MAX_RENAMES and r.members[A].name == f"A{ms.MAX_RENAMES - 1}"
    assert "renames themself at most" in r.ignored[one_more.id]
    assert r.rename_refused(A, "A again") == r.ignored[one_more.id]


def test_a_removed_members_rename_does_not_count_after_or_concurrently() -> None:
    ch = Chain().members(A, B)
    before = ch.roster.heads
    ch.add("remove", F, member=B, last_seq=2, keys=keys(F, A))
    after = ch.add("rename", B, name="Bo")                              # signed after its removal
    backdated = ch.ops.make("rename", B, before, name="Boo")            # on its pre-removal heads
    r = fold([*ch.log, backdated])
    assert after.id in r.ignored and backdated.id in r.ignored
    assert ms.names_ever(r, {op.id: op for op in [*ch.log, backdated]})[B] == "B"
    assert r.rename_refused(B, "Bo") == "only members rename themselves"


def test_a_rename_is_judged_by_its_past_only_a_forged_one_is_rejected() -> None:
    """Verdicts on real envelopes: an honest rename is stored everywhere; one that takes a name its
    author's own past shows someone else holding is invalid there (forged), and rejected."""
    w = Real("F", "A", "B")
    w.op("F", "create", {"name": "real", "member_name": "F", **w.circles["F"].new_epoch_fields([])})
    w.join("F", "A")
    w.join("F", "B")
    w.op("A", "rename", {"name": "Ana"})
    assert all(c.roster.members[w.me("A")].name == "Ana" for c in w.circles.values())
    w.seq["B"] += 1
    forged = w.circles["B"].roster_envelope("rename", {"name": "ANA"}, seq=w.seq["B"], now=T)
    assert w.circles["F"].verdict(forged, T) is Verdict.REJECT



@st.composite
def rename_histories(draw: st.DrawFn) -> list[ms.RosterOp]:
    """F, A, B, C in a circle; then each renames itself a few times on the heads it knows, and knowledge
    merges now and then: concurrent renames of one member, and of several to one name."""
    ch = Chain().members(A, B, C)
    log = list(ch.log)
    heads_known = {m: ch.roster.heads for m in (F, A, B, C)}
    ops = ch.ops
    for _ in range(draw(st.integers(1, 12))):
        who = draw(st.sampled_from([F, A, B, C]))
        if draw(st.integers(0, 3)) == 0:                      # learn everything so far
            heads_known[who] = fold(log).heads
            continue
        name = draw(st.sampled_from(["Ana", "ana", "Bo", "Cat", "Dee", "F", "A"]))
        op = ops.make("rename", who, heads_known[who], name=name)
        log.append(op)
        heads_known[who] = (op.id,)
    return log


@settings(max_examples=examples(100), deadline=None)
@given(rename_histories(), st.randoms(use_true_random=False))
def test_any_order_of_renames_gives_the_same_names(history: list[ms.RosterOp], rnd: random.Random) -> None:
    reference = fold(history)
    shuffled = [*history, *rnd.sample(history, min(3, len(history)))]
    rnd.shuffle(shuffled)
    again = fold(shuffled)
    assert {m: v.name for m, v in again.members.items()} == {m: v.name for m, v in reference.members.items()}
    assert again == reference
    # the name is that of the member's last counted rename in the order, else the one they were admitted with
    by_id = {op.id: op for op in history}
    for member, m in reference.members.items():
        counted = [by_id[i] for i in reference.order
                   if by_id[i].kind == "rename" and by_id[i].author == member and i not in reference.ignored]
        assert m.name == (counted[-1].body["name"] if counted else {F: "F", A: "A", B: "B", C: "C"}[member])
    # no two members end up with one name through renames
    keys_now = [ms.name_key(m.name) for m in reference.members.values()]
    assert len(keys_now) == len(set(keys_now))


# ---------------------------------------------------------------------------------------------------
# the keystore


def test_the_keystore_takes_a_new_name_without_the_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    identity = Identity.generate("ann")
    keystore.create(path, identity, b"secret words", ops=keystore.OPS_MIN, mem=keystore.MEM_MIN)
    keystore.rename(path, "  Ann B.  ")
    assert keystore.read_public(path) == ("Ann B.", bytes(identity.node_id), True)
    again = keystore.load(path, b"secret words")
    assert again.name == "Ann B." and again.seed == identity.seed
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(BadInput):
        keystore.rename(path, "bad\x07name")
    assert keystore.read_public(path)[0] == "Ann B."


# ---------------------------------------------------------------------------------------------------
# the op, between two daemons


def _daemon(name: str, peers: Any = (), kept: list[str] | None = None) -> Daemon:
    return Daemon(Identity.generate(name), MemoryStore(), listen=("127.0.0.1", 0), peers=peers,
                  keep_name=None if kept is None else kept.append)


async def test_a_rename_reaches_the_other_daemon_as_a_member_event(autojump_clock) -> None:
    kept: list[str] = []
    async with trio.open_nursery() as nursery:
        ann = _daemon("ann")
        await nursery.start(ann.run)
        await ann.request("circle.create", {"name": "Elm St"})
        bob = _daemon("bob", [("127.0.0.1", ann.port)], kept)
        await nursery.start(bob.run)
        await bob.request("circle.join", {"token": (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]})
        await wait_for(lambda: member_names(ann, "Elm St") == {"ann", "bob"} == member_names(bob, "Elm St"))
        events: list[tuple[str, Any]] = []

        async def listen() -> None:
            async for item in ann.subscribe():
                events.append(item)
        nursery.start_soon(listen)
        with pytest.raises(BadInput, match="Elm St"):
            await bob.request("node.rename", {"name": "ANN"})          # ann's name: refused, nothing written
        assert kept == [] and bob.perform("status", {})["name"] == "bob"
        result = await bob.request("node.rename", {"name": "Bo (no. 4)"})
        assert result == {"name": "Bo (no. 4)", "circles": [ann.node.registry.find("Elm St").topic.hex()]}
        assert kept == ["Bo (no. 4)"] and bob.perform("status", {})["name"] == "Bo (no. 4)"
        await wait_for(lambda: member_names(ann, "Elm St") == {"ann", "Bo (no. 4)"})
        await wait_for(lambda: any(name == "member" and data["change"] == "renamed" for name, data in events))
        told = next(data for name, data in events if name == "member" and data["change"] == "renamed")
        assert told["name"] == "Bo (no. 4)" and told["previous_name"] == "bob"
        assert told["member"] == bob.identity.node_id.hex() and told["view"]["name"] == "Bo (no. 4)"
        members = ann.perform("circle.members", {"circle": "Elm St"})["members"]
        assert {m["name"] for m in members} == {"ann", "Bo (no. 4)"}
        # renaming to the name one already has tells nobody; a new circle gets the new name
        assert (await bob.request("node.rename", {"name": "Bo (no. 4)"}))["circles"] == []
        await bob.request("circle.create", {"name": "Oak Rd"})
        assert member_names(bob, "Oak Rd") == {"Bo (no. 4)"}
        nursery.cancel_scope.cancel()


# ---------------------------------------------------------------------------------------------------
# meshcare name, without a daemon


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_meshcare_name_shows_and_changes_the_name_without_a_daemon(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert _cli("--home", home, "init", "--name", "ann")[0] == 0
    assert _cli("--home", home, "name") == (0, "ann\n", "")
    code, out, err = _cli("--home", home, "name", "Ann B.")
    assert code == 0 and 'Your name is now "Ann B." on this node' in out and "were not told" in out
    assert json.loads(_cli("--home", home, "name", "--json")[1]) == {"name": "Ann B."}
    assert json.loads(_cli("--home", home, "name", "Ann C.", "--json")[1]) == {"name": "Ann C.", "circles": [],
                                                                              "daemon": False}
    code, _, err = _cli("--home", home, "name", "tab\tname")
    assert code == 1 and err.startswith("meshcare name: ") and "control characters" in err


@pytest.mark.timeout(120)
def test_meshcare_name_with_a_running_daemon_tells_the_circles_and_keeps_the_name(tmp_path: Path) -> None:
    node = DaemonProcess(tmp_path / "ann", "ann")
    node.start()
    try:
        assert node.cli("name", "Ann B.").stdout == 'Your name is now "Ann B.".\n'     # no circle to tell yet
        node.cli("circle", "create", "Elm St")
        node.cli("circle", "create", "Oak Rd", "--my-name", "Ann (Oak)")
        out = node.cli("name", "Ann C.").stdout
        assert out == 'Your name is now "Ann C."; told Elm St, Oak Rd: members see it as it reaches them.\n'
        assert json.loads(node.cli("id", "--json").stdout)["name"] == "Ann C."       # kept in the keystore
        assert json.loads(node.cli("status", "--json").stdout)["name"] == "Ann C."
        members = json.loads(node.cli("circle", "members", "Oak Rd", "--json").stdout)["members"]
        assert [m["name"] for m in members] == ["Ann C."]
        refused = node.cli("name", "x\x1by", check=False)
        assert refused.returncode == 1 and refused.stderr.startswith("meshcare name: ")
    finally:
        assert node.stop() == 0
