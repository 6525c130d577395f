"""Ops commit in groups (transport/daemon.py, ``_group_commit``): requests that are ready together are
written in one transaction, and still nothing is replied, shown or sent before it is stored."""

from __future__ import annotations

from typing import Any

import trio

from meshcare.errors import StoreError

from .helpers import founded, wait_for


class _Counting:
    """Wraps a store's ``add``: how many writes, and what each wrote."""

    def __init__(self, store: Any) -> None:
        self.store, self.real, self.writes = store, store.add, []
        store.add = self.add

    def add(self, envelopes: Any, now: int, **kw: Any) -> Any:
        self.writes.append([e.id for e in envelopes])
        return self.real(envelopes, now, **kw)


async def test_calls_posted_together_are_written_once_and_replied_only_once_stored(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        counting = _Counting(ann.store)
        replies: list[str] = []

        async def post(i: int) -> None:
            result = await ann.request("call.create", {"circle": "Elm St", "text": f"call {i}"})
            call = bytes.fromhex(result["call"]["id"])
            assert ann.store.has(call)                  # the reply came after the write, not before
            replies.append(result["call"]["id"])
        async with trio.open_nursery() as burst:
            for i in range(6):
                burst.start_soon(post, i)
        assert len(replies) == 6
        own = [w for w in counting.writes if any(bytes.fromhex(r) in w for r in replies)]
        assert len(own) == 1 and set(own[0]) >= {bytes.fromhex(r) for r in replies}
        nursery.cancel_scope.cancel()


async def test_an_event_waits_for_the_write_it_announces(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        seen: list[bool] = []
        events = ann.subscribe()

        async def watch() -> None:
            async for name, data in events:
                if name == "envelope":
                    seen.append(ann.store.has(bytes.fromhex(data["id"])))
        nursery.start_soon(watch)
        await ann.request("call.create", {"circle": "Elm St", "text": "is anyone up?"})
        await wait_for(lambda: bool(seen))
        assert all(seen)
        nursery.cancel_scope.cancel()


async def test_a_failed_group_write_fails_every_op_of_the_group_and_the_daemon_goes_on(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        real = ann.store.add
        failing = [True]

        def add(envelopes: Any, now: int, **kw: Any) -> Any:
            if failing[0]:
                raise StoreError("the disk is full")
            return real(envelopes, now, **kw)
        ann.store.add = add
        outcomes: list[str] = []

        async def post(i: int) -> None:
            try:
                await ann.request("call.create", {"circle": "Elm St", "text": f"call {i}"})
                outcomes.append("ok")
            except StoreError:
                outcomes.append("failed")
        async with trio.open_nursery() as burst:
            for i in range(3):
                burst.start_soon(post, i)
        assert outcomes == ["failed"] * 3
        failing[0] = False
        result = await ann.request("call.create", {"circle": "Elm St", "text": "after the disk was freed"})
        assert ann.store.has(bytes.fromhex(result["call"]["id"]))
        nursery.cancel_scope.cancel()
