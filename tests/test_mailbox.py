"""The mailbox role between in-process daemons on loopback (virtual time: ``autojump_clock``), and the CLI's
words for it.

The catch-up check: Ann's laptop and her mailbox Pi (a relay in "Elm St") are linked; the laptop goes away;
Bob posts a call that reaches only the Pi; the laptop comes back linked ONLY to the Pi and receives the
call, and `mailbox.status` says it is linked directly and when it last synced. Over Tor it is the same
code path (the daemon dials an onion address instead); tests/test_mailbox_neighbours.py holds the neighbour
set's part (dialled first, never trimmed). Polls with deadlines (tests/helpers.wait_for), no fixed sleeps.
"""

from __future__ import annotations

import pytest
import trio

from meshcare.cli.mailbox import mailbox_line, status_text
from meshcare.control.results_mailbox import Mailbox, MailboxSetResult, MailboxStatusResult
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, NotFound
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon
from meshcare.transport.state_file import MemoryStateFile
from tests.helpers import circle_of_three, make_daemon, member_names, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d: Daemon) -> str:
    return bytes(d.identity.node_id).hex()


def laptop_of(identity: Identity, store: MemoryStore, state: MemoryStateFile, pi: Daemon | None = None) -> Daemon:
    """Ann's laptop: the same identity, store and state file at every start; the Pi as its one static peer
    when given. (At the first start it has none: the Pi dials it when it joins. Two nodes dialling each
    other at the same moment can lose both links to "unexpected Hello frame while live" and back off for
    a minute; a race of main's daemon, reported, not this test's subject.)"""
    peers = [("127.0.0.1", pi.port)] if pi is not None else []
    return Daemon(identity, store, listen=("127.0.0.1", 0), peers=peers, state=state)


async def test_the_laptop_catches_up_from_its_mailbox_alone(autojump_clock):
    async with trio.open_nursery() as nursery:
        pi = make_daemon("ann-pi")
        await nursery.start(pi.run)
        identity, store, state = Identity.generate("ann"), MemoryStore(), MemoryStateFile()
        laptop = laptop_of(identity, store, state)
        with trio.CancelScope() as laptop_scope:
            async with trio.open_nursery() as laptop_nursery:
                await laptop_nursery.start(laptop.run)
                await laptop.request("circle.create", {"name": "Elm St"})
                relay = (await laptop.request("circle.invite", {"circle": "Elm St", "role": "relay"}))["token"]
                await pi.request("circle.join", {"token": relay})
                await wait_for(lambda: member_names(laptop, "Elm St") == {"ann", "ann-pi"})
                bob = make_daemon("bob", [("127.0.0.1", pi.port)])
                await nursery.start(bob.run)
                await bob.request("circle.join",
                                  {"token": (await laptop.request("circle.invite", {"circle": "Elm St"}))["token"]})
                await wait_for(lambda: all(member_names(d, "Elm St") == {"ann", "ann-pi", "bob"}
                                           for d in (laptop, pi, bob)))
                chosen = await laptop.request("mailbox.set", {"member": "ann-pi"})
                assert chosen["mailboxes"] == [hexid(pi)] and chosen["replaced"] == []
                box = chosen["mailbox"]
                assert box["name"] == "ann-pi" and box["circles"] == ["Elm St"] and box["warnings"] == []
                assert box["linked"] is True and box["via"] == "direct"
                laptop_scope.cancel()                # Ann closes her laptop

        await wait_for(lambda: hexid(laptop) not in {k.hex() for k in pi.links})
        call = (await bob.request("call.create", {"circle": "Elm St", "text": "Could someone call me tonight?"}))
        call_id = call["call"]["id"]
        await wait_for(lambda: pi.store.has(bytes.fromhex(call_id)))   # it waits on the Pi, which cannot read it

        back = laptop_of(identity, store, state, pi)       # the laptop comes back (a new port: bob cannot dial it)
        await nursery.start(back.run)
        assert back.node.state.mailboxes == {bytes(pi.identity.node_id)}     # the choice was kept
        await wait_for(lambda: call_id in [c["id"] for c in back.perform("calls.list", {})["calls"]])
        assert set(back.links) == {pi.identity.node_id}    # it came from the mailbox, the only link
        answer = back.perform("mailbox.status", {})
        assert MailboxStatusResult.from_data(answer).to_data() == answer      # exactly what the record writes
        [status] = answer["mailboxes"]
        assert status["linked"] is True and status["via"] == "direct" and status["since"] is not None
        assert status["last_synced"] is not None
        nursery.cancel_scope.cancel()


async def test_mailbox_set_clear_status_and_what_they_refuse(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        assert ann.perform("mailbox.status", {}) == {"mailboxes": []}
        with pytest.raises(NotFound, match="nobody called 'dora'"):
            await ann.request("mailbox.set", {"member": "dora"})
        with pytest.raises(BadInput, match="this node itself"):
            await ann.request("mailbox.set", {"member": "ann"})
        with pytest.raises(NotFound):
            await ann.request("mailbox.set", {"member": "bob", "circle": "Oak St"})
        # bob is a member, not a relay: allowed, with a warning that says so
        chosen = await ann.request("mailbox.set", {"member": "bob", "circle": "Elm St"})
        assert chosen["mailbox"]["circles"] == [] and "member, not a relay" in chosen["mailbox"]["warnings"][0]
        both = await ann.request("mailbox.set", {"member": hexid(cat)[:12], "add": True})
        assert sorted(both["mailboxes"]) == sorted([hexid(bob), hexid(cat)])
        assert ann.node.state.mailboxes == {bob.identity.node_id, cat.identity.node_id}
        replaced = await ann.request("mailbox.set", {"member": "cat"})
        assert replaced["replaced"] == [hexid(bob)] and replaced["mailboxes"] == [hexid(cat)]
        with pytest.raises(NotFound, match="not one of your mailboxes"):
            await ann.request("mailbox.clear", {"member": "bob"})
        assert MailboxSetResult.from_data(replaced).to_data() == replaced
        cleared = await ann.request("mailbox.clear", {"member": "cat"})
        assert cleared == {"cleared": [hexid(cat)], "mailboxes": []}
        assert await ann.request("mailbox.clear", {}) == {"cleared": [], "mailboxes": []}
        assert ann.node.state.mailboxes == set()
        nursery.cancel_scope.cancel()


# --- the CLI's words (pure) ---------------------------------------------------------------------------

BOX = Mailbox(node_id="ab" * 32, name="ann-pi", circles=("Elm St",), linked=True, via="onion", since=None,
              last_synced=None, warnings=("it is not in Oak St: ...",))


def test_the_words_say_how_it_is_linked_and_what_it_cannot_do() -> None:
    text = mailbox_line(BOX)
    assert text.startswith("ann-pi (abababab): relay in Elm St; linked over Tor;")
    assert "nothing new from it since this node started" in text and "\n  warning: it is not in Oak St" in text
    away = mailbox_line(Mailbox(node_id="cd" * 32, name=None, circles=(), linked=False, via=None, since=None,
                                last_synced=1_700_000_000, warnings=()))
    assert "cdcdcdcd: a relay in none of your circles; NOT linked now" in away and "last synced" in away


def test_no_mailbox_says_how_to_name_one() -> None:
    assert "meshcare mailbox set NAME" in status_text(MailboxStatusResult(mailboxes=()))
