"""Trace one call for support through two in-process daemons: which meshcare modules it touches and how
often control crosses between the trio shell and the pure core.

Run: ``python benchmarks/trace_call.py`` (prints a table; ``--json`` for the raw figures). The window opens
as ann's daemon receives ``call.create`` and closes when bob's store holds the call. Everything both
nodes ran meanwhile counts (the request, sealing, persisting, the link, bob's verification and fold);
the CLI process and the control socket's framing are not in the window (they are the same few modules
before and after the restructuring). A *crossing* is a call from a function in one layer into a function
in another: shell (``meshcare.transport``), store (``meshcare.store*``), core (everything else), counted
between the nearest meshcare frames (trio's own frames in between do not count).

Works on the code before the restructuring too (``Daemon.registry``) so the two can be compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trio  # noqa: E402

from meshcare.crypto.keys import Identity  # noqa: E402
from meshcare.transport.daemon import Daemon  # noqa: E402

try:
    from meshcare.store.memory import MemoryStore  # noqa: E402
except ImportError:   # before the store became a package
    from meshcare.store import MemoryStore  # type: ignore[attr-defined,no-redef]  # old layout  # noqa: E402

ROOT = str(Path(__file__).resolve().parents[1] / "meshcare")


def module_of(frame: FrameType) -> str | None:
    path = frame.f_code.co_filename
    if not path.startswith(ROOT):
        return None
    rel = path[len(ROOT) - len("meshcare"):].removesuffix(".py").removesuffix("/__init__")
    return rel.replace("/", ".")


def layer(module: str) -> str:
    if module.startswith("meshcare.transport"):
        return "shell"
    if module.startswith(("meshcare.store", "meshcare.store_")):
        return "store"
    return "core"


class Tracer:
    def __init__(self) -> None:
        self.modules: Counter[str] = Counter()
        self.crossings: Counter[tuple[str, str]] = Counter()
        self.on = False

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self.on or event != "call":
            return
        callee = module_of(frame)
        if callee is None:
            return
        self.modules[callee] += 1
        back = frame.f_back
        while back is not None and module_of(back) is None:
            back = back.f_back
        if back is None:
            return
        caller = module_of(back)
        assert caller is not None
        if layer(caller) != layer(callee):
            self.crossings[(layer(caller), layer(callee))] += 1


def registry_of(d: Daemon) -> Any:
    return getattr(d, "node", d).registry


def make(name: str, peers: Any = ()) -> Daemon:
    return Daemon(Identity.generate(name), MemoryStore(), listen=("127.0.0.1", 0), peers=peers)


async def wait(predicate: Any) -> None:
    with trio.fail_after(60):
        while not predicate():
            await trio.sleep(0.005)


async def run(tracer: Tracer) -> str:
    async with trio.open_nursery() as nursery:
        ann = make("ann")
        await nursery.start(ann.run)
        await ann.request("circle.create", {"name": "Elm St"})
        bob = make("bob", [("127.0.0.1", ann.port)])
        await nursery.start(bob.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await bob.request("circle.join", {"token": token})

        def admitted() -> bool:
            circles = registry_of(bob).circles.values()
            return any({m.name for m in c.roster.members.values()} == {"ann", "bob"} for c in circles) and all(
                {m.name for m in c.roster.members.values()} == {"ann", "bob"} for c in registry_of(ann).circles.values())
        await wait(admitted)
        await trio.sleep(1.0)              # let receipts and admission duties settle before the window
        sys.setprofile(tracer)
        tracer.on = True
        call = (await ann.request("call.create", {"circle": "Elm St", "text": "Rough night, could someone come by?"}))
        call_id = bytes.fromhex(call["call"]["id"])
        await wait(lambda: bob.store.has(call_id))
        tracer.on = False
        sys.setprofile(None)
        nursery.cancel_scope.cancel()
    return call_id.hex()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    tracer = Tracer()
    trio.run(run, tracer)
    modules = sorted(tracer.modules)
    result = {"modules": len(modules), "module_list": modules,
              "crossings": {f"{a}->{b}": n for (a, b), n in sorted(tracer.crossings.items())},
              "crossings_total": sum(tracer.crossings.values()),
              "shell_core_round_trips": min(tracer.crossings.get(("shell", "core"), 0),
                                            tracer.crossings.get(("core", "shell"), 0))}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"modules touched: {result['modules']}")
    print("  " + ", ".join(m.removeprefix("meshcare.") for m in modules))
    for name, n in result["crossings"].items():
        print(f"crossings {name}: {n}")
    print(f"crossings in all: {result['crossings_total']}")


if __name__ == "__main__":
    main()
