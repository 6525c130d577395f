"""The daemon's notifications in one trio run over loopback TCP (virtual time): which changes reach the
notifier, escalations included, and the runner's bounds with a stand-in for the command."""

from __future__ import annotations

import trio

from meshcare.notify.rules import Notification
from meshcare.notify.settings import NotifySettings, QuietHours
from meshcare.transport.daemon import Daemon
from meshcare.transport.notifier import Notifier

from .helpers import circle_of_three, wait_for

SETTINGS = NotifySettings(command=("/bin/true",))


class Recorder(Notifier):
    """The notifier with the command replaced: records what would run, and can be told to take a while."""

    def __init__(self, daemon: Daemon, settings: NotifySettings = SETTINGS) -> None:
        super().__init__(settings, daemon.identity.node_id.hex())
        self.ran: list[tuple[Notification, int]] = []
        self.busy = 0.0
        self.most = 0

    async def _execute(self, note: Notification, dropped: int) -> None:
        self.ran.append((note, dropped))
        self.most = max(self.most, self.running)
        await trio.sleep(self.busy)


def summaries(d: Daemon) -> list[str]:
    notifier = d.notifier
    assert isinstance(notifier, Recorder)
    return [note.summary for note, _ in notifier.ran]


async def listen(nursery: trio.Nursery, *daemons: Daemon, settings: NotifySettings = SETTINGS) -> None:
    for d in daemons:
        d.notifier = Recorder(d, settings)
        nursery.start_soon(d.notifier.run)


async def test_a_call_notifies_the_others_once_and_a_need_support_reply_the_facilitator(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await listen(nursery, ann, bob, cat)
        made = await ann.request("call.create", {"circle": "Elm St", "text": "Flooded, please come", "urgency": "now"})
        call = made["call"]["id"]
        await wait_for(lambda: summaries(bob) and summaries(cat))
        await bob.request("call.claim", {"call": call})
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["claimer"] is not None)
        await trio.sleep(5)
        assert summaries(bob) == summaries(cat) == ["New call in Elm St (now)"] and summaries(ann) == []
        assert bob.perform("status", {})["statistics"]["notify_runs"] == 0   # (the stand-in counts nothing)

        made = await ann.request("checkin.create", {"circle": "Elm St", "prompt": "How is everyone?"})
        checkin = made["checkin"]["id"]
        await wait_for(lambda: checkin in [c["id"] for c in cat.perform("checkin.list", {})["checkins"]])
        await cat.request("checkin.reply", {"checkin": checkin, "option": "3", "text": "bad night"})
        await bob.request("checkin.reply", {"checkin": checkin, "option": "1"})
        await wait_for(lambda: len(summaries(ann)) == 1)
        await wait_for(lambda: ann.perform("checkin.show", {"checkin": checkin})["checkin"]["answered"] == 2)
        await trio.sleep(5)
        assert summaries(ann) == ['Someone in Elm St answered "need support now" to a check-in']
        assert len(summaries(bob)) == 1 and len(summaries(cat)) == 1      # facilitators-only: not theirs to read
        nursery.cancel_scope.cancel()


async def test_an_escalation_notifies_the_people_it_reaches_when_it_reaches_them(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await listen(nursery, bob, cat)
        ladder = [{"after": 0, "to": "chosen", "members": ["bob"]}, {"after": 2, "to": "circle"}]
        await ann.request("call.create", {"circle": "Elm St", "text": "Anyone?", "urgency": "today", "ladder": ladder})
        await wait_for(lambda: summaries(bob))
        await trio.sleep(60)
        assert summaries(cat) == []                     # not on the first step: cannot read it yet
        await wait_for(lambda: summaries(cat), timeout=300)
        assert summaries(cat) == ["New call in Elm St (today)"] and len(summaries(bob)) == 1
        nursery.cancel_scope.cancel()


async def test_quiet_hours_hold_back_all_but_now_calls(autojump_clock, monkeypatch):
    monkeypatch.setattr("meshcare.transport.notifier.local_minute", lambda now: 3 * 60)    # 03:00
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await listen(nursery, bob, settings=NotifySettings(command=("x",), quiet_hours=QuietHours(23 * 60, 7 * 60)))
        await ann.request("call.create", {"circle": "Elm St", "text": "whenever", "urgency": "whenever"})
        await ann.request("call.create", {"circle": "Elm St", "text": "now", "urgency": "now"})
        await wait_for(lambda: summaries(bob))
        await wait_for(lambda: bob.perform("status", {})["statistics"]["notify_quiet"] == 1)
        assert summaries(bob) == ["New call in Elm St (now)"]
        nursery.cancel_scope.cancel()


async def test_a_burst_runs_two_at_a_time_and_the_rest_is_dropped_and_counted(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await listen(nursery, bob)
        recorder = bob.notifier
        assert isinstance(recorder, Recorder)
        recorder.busy = 5.0
        for n in range(40):
            await ann.request("call.create", {"circle": "Elm St", "text": f"call {n}", "urgency": "today"})
        await wait_for(lambda: len(recorder.ran) + recorder.backlog.dropped == 40, timeout=600)
        await wait_for(lambda: recorder.running == 0)
        stats = bob.perform("status", {})["statistics"]
        assert recorder.most == 2 and stats["notify_waiting"] == 0
        assert len(recorder.ran) <= 2 + 8 + 2 and stats["notify_dropped"] > 0
        assert sum(dropped for _, dropped in recorder.ran) == stats["notify_dropped"]
        nursery.cancel_scope.cancel()
