"""Test helpers shared by several test modules: constants, builders, and the two ways to wait.

Sections: pure builders (envelopes, posts, hypothesis strategies); in-process daemons (``wait_for`` on
trio's clock, circles between daemons); real ``meshcare daemon`` processes (``wait_real``, ``DaemonProcess``).
The in-memory circle network the fold tests share is in ``tests/circlenet.py``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import nacl.signing
import trio
from hypothesis import settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import posts as p
from meshcare.circles.posts import Post, make_post
from meshcare.client import ControlClient
from meshcare.crypto.keys import Identity
from meshcare.store.memory import MemoryStore

if TYPE_CHECKING:
    from meshcare.transport.daemon import Daemon

NOW = 1_800_000_000  # a fixed "now" for pure tests (2027-01-15)
T = NOW              # the circle tests' short name for it
DAY = 86_400

_V = TypeVar("_V")


def full_size() -> bool:
    """Whether the loaded hypothesis profile (tests/conftest.py) is the ``ci`` one or larger."""
    return settings.default.max_examples >= settings.get_profile("ci").max_examples


def examples(ci: int) -> int:
    """An explicit ``max_examples`` written for the ``ci`` profile, scaled to the loaded one (the ``dev``
    profile runs half as many), never below 10. CI runs exactly ``ci``."""
    scale = settings.default.max_examples / settings.get_profile("ci").max_examples
    return ci if scale >= 1 else max(10, round(ci * scale))


def by_profile(*, dev: _V, ci: _V) -> _V:
    """``ci`` under the ``ci`` profile, ``dev`` otherwise: for sizes that make a test slow, not its examples."""
    return ci if full_size() else dev


def make_envelope(signing_key: nacl.signing.SigningKey | None = None, *, topic: bytes = b"T" * 16,
                  key: bytes = b"K" * 32, seq: int = 1, created: int = NOW, ttl: int = 30 * DAY,
                  plaintext: bytes = b"hello", lane: env.Lane = env.Lane.NORMAL,
                  nonce: bytes | None = None, epoch: int = 0, lamport: int = 1,
                  prev: bytes | None = None) -> env.Envelope:
    """Seal a test envelope with deterministic defaults."""
    return env.seal(signing_key=signing_key or nacl.signing.SigningKey(b"S" * 32), topic=topic, epoch=epoch,
                    key=key, seq=seq, lamport=lamport, created=created, expires=created + ttl,
                    plaintext=plaintext, lane=lane, nonce=nonce, prev=env.filler_prev(seq) if prev is None else prev)


def mid(n: int) -> bytes:
    """A member (or any) 32-byte id."""
    return bytes([n]) * 32


def mk(kind: str, author: bytes, lamport: int, /, created: int = 1000, id: bytes | None = None,
       **body: Any) -> Post:
    """A validated Post; the id defaults to a hash of everything (so distinct posts get distinct ids)."""
    if id is None:
        id = hashlib.sha256(repr((kind, author, lamport, created, sorted(body.items()))).encode()).digest()
    return make_post(id, author, created, lamport, kind, body)


@st.composite
def ladders(draw: st.DrawFn, members: st.SearchStrategy[bytes] = st.binary(min_size=32, max_size=32)
            ) -> list[dict[str, Any]]:
    """A valid escalation ladder for a call body: a first step at 0, then later steps in order."""
    afters = draw(st.lists(st.integers(1, p.MAX_LADDER_AFTER), max_size=p.MAX_LADDER_STEPS - 1, unique=True))
    steps = []
    for after in [0, *sorted(afters)]:
        to = draw(st.sampled_from(p.LADDER_TARGETS))
        chosen = draw(st.lists(members, min_size=1, max_size=3, unique=True)) if to == "chosen" else []
        steps.append({"after": after, "to": to, "members": chosen})
    return steps


def shuffled_with_duplicates(posts: list[Post]) -> st.SearchStrategy[list[Post]]:
    """``posts`` in any order, some of them delivered again: what a fold must not care about."""
    dups = st.lists(st.sampled_from(posts), max_size=5) if posts else st.just([])
    return st.tuples(st.permutations(posts), dups).map(
        lambda pd: [*pd[0], *pd[1]])


# --- in-process daemons ---------------------------------------------------------------------------

async def wait_for(predicate: Callable[[], object], timeout: float = 30.0, *, interval: float = 0.01) -> None:
    """Return once ``predicate()`` is true, checking it every ``interval`` seconds of trio's clock.

    trio's clock, not the wall's: under ``MockClock(autojump_threshold=0)`` (the ``autojump_clock``
    fixture) the waits cost no real time, and ``timeout`` is in virtual seconds. Raises AssertionError
    naming the predicate (its source line) when it is still false after ``timeout``.
    """
    deadline = trio.current_time() + timeout
    while not predicate():
        if trio.current_time() >= deadline:
            raise AssertionError(f"still false after {timeout:g} s of trio's clock: {_describe(predicate)}")
        await trio.sleep(interval)


def _describe(predicate: Callable[[], object]) -> str:
    """The predicate's source (a lambda's is the line that holds it) and where it is, for a failure message."""
    code = getattr(predicate, "__code__", None)
    where = f" ({Path(code.co_filename).name}:{code.co_firstlineno})" if code is not None else ""
    try:
        source = " ".join(inspect.getsource(predicate).split())
    except (OSError, TypeError):
        source = getattr(predicate, "__qualname__", repr(predicate))
    return (source if len(source) <= 300 else source[:297] + "...") + where


def make_daemon(name: str, peers: Any = ()) -> Daemon:
    """A daemon on 127.0.0.1 (any port) with an in-memory store, not yet running."""
    from meshcare.transport.daemon import Daemon  # here: the pure tests import this module without the shell
    return Daemon(Identity.generate(name), MemoryStore(), listen=("127.0.0.1", 0), peers=peers)


def member_names(d: Daemon, circle: str) -> set[str]:
    """Names in the circle as ``d`` folds it; empty while ``d`` has the secret but not yet the roster
    that names the circle (a joiner between the welcome and the first roster operations)."""
    found = [c for c in d.node.registry.circles.values() if c.roster.name == circle]
    return {m.name for m in found[0].roster.members.values()} if found else set()


async def founded(nursery: trio.Nursery) -> Daemon:
    """ann's daemon, running, with the circle "Elm St" she founded."""
    ann = make_daemon("ann")
    await nursery.start(ann.run)
    await ann.request("circle.create", {"name": "Elm St"})
    return ann


async def circle_of_three(nursery: trio.Nursery) -> tuple[Daemon, Daemon, Daemon]:
    """ann founds "Elm St"; bob and cat join by invite tokens (bob via ann, cat via bob only)."""
    ann = await founded(nursery)
    bob = make_daemon("bob", [("127.0.0.1", ann.port)])
    await nursery.start(bob.run)
    token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
    joined = await bob.request("circle.join", {"token": token})
    assert joined["status"] == "waiting" and joined["name"] == "Elm St"
    await wait_for(lambda: "Elm St" in {c.roster.name for c in bob.node.registry.circles.values()}
                   and member_names(bob, "Elm St") == {"ann", "bob"})
    cat = make_daemon("cat", [("127.0.0.1", bob.port)])      # reaches the circle only through bob
    await nursery.start(cat.run)
    token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
    await cat.request("circle.join", {"token": token})
    await wait_for(lambda: all(d.node.registry.circles and member_names(d, "Elm St") == {"ann", "bob", "cat"}
                               for d in (ann, bob, cat)))
    return ann, bob, cat


# --- real `meshcare daemon` processes -------------------------------------------------------------

#: The topic secret every DaemonProcess joins when it starts.
PROCESS_SECRET = "ef" * 16


def wait_real(predicate: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Poll ``predicate`` on the real clock until it is true; for tests that drive other processes
    (the only tests where a real-clock sleep belongs). Raises AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class DaemonProcess:
    """A `meshcare daemon` process on 127.0.0.1 in its own MESHCARE_HOME, with static peers only."""

    def __init__(self, home: Path, name: str) -> None:
        self.home = home
        self.env = {**os.environ, "MESHCARE_HOME": str(home)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.cli("init", "--name", name)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "meshcare", *args], env=self.env, capture_output=True,
                             text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"meshcare {args}: {out.returncode} {out.stderr}")
        return out

    def start(self, *peers: int) -> None:
        argv = [sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0", "--bench-ops"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait_real(lambda: self.cli("status", check=False).returncode == 0, f"daemon in {self.home} to start")
        self.request("topic.join", secret=PROCESS_SECRET)

    @property
    def port(self) -> int:
        return int(json.loads(self.cli("status", "--json").stdout)["listen"].rsplit(":", 1)[1])

    def request(self, op: str, **args: object) -> dict[str, Any]:
        client = ControlClient.connect(self.home / "control.sock")
        try:
            return client.request(op, **args)
        finally:
            client.close()

    def ids(self) -> set[str]:
        return set(self.request("topic.ids", secret=PROCESS_SECRET)["ids"])

    def peers(self) -> list[dict[str, Any]]:
        return json.loads(self.cli("peers", "--json").stdout)["peers"]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=10)
        self.proc = None
        return code


# --- benchmark scripts ----------------------------------------------------------------------------

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> Any:
    """``benchmarks/<name>.py`` as a module, to test what it computes (benchmarks/ goes on the path,
    as when the script runs: the scripts import their shared helpers from there)."""
    import importlib.util
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no benchmark script {name!r} in {BENCHMARKS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sim_argv(*flags: str) -> list[str]:
    """``meshcare sim FLAGS`` as a fresh interpreter that also fails if the simulator loaded an I/O
    framework (it is pure: trio, zeroconf, textual, socket and asyncio must stay out)."""
    return [sys.executable, "-c",
            "import sys, runpy; sys.argv = ['meshcare.sim'] + sys.argv[1:];\n"
            "try:\n    runpy.run_module('meshcare.sim', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            "bad = [m for m in ('trio', 'zeroconf', 'textual', 'socket', 'asyncio') if m in sys.modules]\n"
            "assert not bad, bad\nsys.exit(code)", *flags]
